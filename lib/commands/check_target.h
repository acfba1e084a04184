#pragma once
// The whole check of one resolved callable, shared by `psleak run` and the Python
// module's MemoryLeakTestCase: warm up, resource checks around one call, memory runs,
// reference counts. Needs a running interpreter (and the GIL).

#include <functional>
#include <string>

#include "checks/check_kind.h"
#include "python/python_workload.h"
#include "python/target.h"
#include "report/report.h"
#include "runner/memory_check.h"
#include "runner/progress.h"

namespace psleak {

struct CheckOptions {
  MemoryCheckSettings check;
  CheckSelection checks;
  bool rawBytes = false;
  // --trace: one more run with allocation stacks recorded; the top sites are reported.
  bool trace = false;
  std::size_t traceTop = 10;
  // Called whenever caches are cleared, before each sample (the original package's trim_callback).
  PyObject* clearCallback = nullptr;
  // MemoryLeakTestCase only: calls through its call() override, exceptions kept as raised.
  py::CallRouting routing;
  // Told each step of the check and the calls made in it (optional).
  Progress* progress = nullptr;
};

// How this process counts allocations now (for the report's settings).
HooksDescription describeHooks();
// Told where the check is as it moves on ("before run 1, during the warm-up calls",
// "during run 2 (after 1 complete run)"), in words that follow a message such as "the
// target crashed: SIGSEGV": what psleak says if the target ends the process there.
using PhaseCallback = std::function<void(const std::string& where)>;

// Where a check is before the target is called: importing it and running its setup.
inline constexpr const char* kImportPhase = "before run 1, while importing the target or running its setup";

// Fills report.runs, report.findings and report.verdict. `onRun` sees each run as it
// ends, `onPhase` each step as it starts. With --max-growth every call goes through one
// GrowthGuard: once memory grew past the limit no further call is made, and the verdict
// is a memory leak with the runs so far. Throws TargetError if the target fails,
// InternalError if a probe does.
void checkTarget(const py::ResolvedTarget& target, const CheckOptions& options, Report& report,
                 const RunCallback& onRun = {}, const PhaseCallback& onPhase = {});

}  // namespace psleak
