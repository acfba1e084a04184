#pragma once
// "MODULE:ATTR" as typed on the command line, parsed without Python.

#include <string>
#include <vector>

namespace psleak {

struct TargetSpec {
  std::string module;                  // "pkg.mod"
  std::vector<std::string> attrPath;   // {"Class", "method"}
  std::string text;                    // as given

  // Throws UsageError naming what is wrong ("no colon", an empty part).
  static TargetSpec parse(const std::string& text);
};

// "NAME=EXPR" of --kwarg. Throws UsageError if NAME is not an identifier.
std::pair<std::string, std::string> parseKeywordArgument(const std::string& text);

}  // namespace psleak
