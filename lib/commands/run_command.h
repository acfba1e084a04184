#pragma once
// `psleak run`: start the interpreter, resolve the target, run the memory check, and
// describe everything that happened in a Report. Errors become the report's verdict.

#include <string>

#include "checks/check_kind.h"
#include "commands/check_target.h"
#include "python/interpreter.h"
#include "python/target.h"
#include "report/report.h"
#include "runner/memory_check.h"

namespace psleak {

struct RunOptions {
  std::string targetText;   // MODULE:ATTR as given (empty with --expr)
  py::TargetRequest target; // spec filled in by runCommand from targetText
  MemoryCheckSettings check;
  CheckSelection checks;    // --checks / --skip, from checkTexts / skipTexts
  // As typed: parsed by runCommand, so that a bad one is reported with the rest.
  std::vector<std::string> kwargTexts;      // --kwarg NAME=EXPR
  std::vector<std::string> toleranceTexts;  // --tolerance [METRIC=]BYTES
  std::vector<std::string> checkTexts;      // --checks
  std::vector<std::string> skipTexts;       // --skip
  std::vector<std::string> strictTexts;     // --strict
  py::InterpreterOptions interpreter;
  bool rawBytes = false;
  bool trace = false;          // --trace
  std::size_t traceTop = 10;   // --trace-top
  // Told each step of the check as it starts, and the calls made (optional; not owned).
  Progress* progress = nullptr;
};

// A report of `options` with what is known before anything runs: target, settings,
// platform. No runs, no verdict.
Report describeRun(const RunOptions& options);

// Never throws: a failure of any step is the report's error verdict.
// `onRun` is called as each run finishes (for live output), `onPhase` as each step of
// the check starts (kImportPhase first).
Report runCommand(RunOptions options, const RunCallback& onRun = {},
                  const PhaseCallback& onPhase = {});

}  // namespace psleak
