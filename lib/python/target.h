#pragma once
// Turning the command line's description of a target into a callable and its arguments.

#include <optional>
#include <string>
#include <vector>

#include "core/target_spec.h"
#include "python/py_ref.h"

namespace psleak::py {

struct TargetRequest {
  std::optional<TargetSpec> spec;        // MODULE:ATTR, or
  std::string expression;                // -e STMT (run as the body of a function)
  std::vector<std::string> setup;        // -s CODE, run once, in order
  std::vector<std::string> args;         // --args EXPR, positional
  std::vector<std::pair<std::string, std::string>> kwargs;  // --kwarg NAME=EXPR
  std::string expectException;           // --expect-exception NAME
};

struct ResolvedTarget {
  PyRef callable;
  PyRef namespaceDict;              // where setup ran and arguments were evaluated
  std::vector<PyRef> positional;
  std::vector<PyRef> keywordValues;
  PyRef keywordNames;               // tuple of str, or empty when there are none
  PyRef expectedException;          // exception class, or empty
  std::string description;          // "json:dumps" or "-e <stmt>"
  std::optional<TargetSpec> spec;   // MODULE:ATTR, when the target was given so
};

// Runs the setup, imports and resolves the target, evaluates arguments.
// Throws UsageError for code that does not compile or a bad exception name, and
// TargetError (with traceback) for an import or attribute that fails.
ResolvedTarget resolveTarget(const TargetRequest& request);

}  // namespace psleak::py
