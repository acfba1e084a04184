#pragma once
// The whole check of one resolved callable, shared by `psleak run` and the Python
// module's MemoryLeakTestCase: warm up, resource checks around one call, memory runs,
// reference counts. Needs a running interpreter (and the GIL).

#include "checks/check_kind.h"
#include "python/python_workload.h"
#include "python/target.h"
#include "report/report.h"
#include "runner/memory_check.h"

namespace psleak {

struct CheckOptions {
  MemoryCheckSettings check;
  CheckSelection checks;
  bool rawBytes = false;
  // --trace: one more run with allocation stacks recorded; the top sites are reported.
  bool trace = false;
  std::size_t traceTop = 10;
  // Called whenever caches are cleared, before each sample (the seed's trim_callback).
  PyObject* clearCallback = nullptr;
  // MemoryLeakTestCase only: calls through its call() override, exceptions kept as raised.
  py::CallRouting routing;
};

// How this process counts allocations now (for the report's settings).
HooksDescription describeHooks();

// Fills report.runs, report.findings and report.verdict. `onRun` sees each run as it
// ends. Throws TargetError if the target fails, InternalError if a probe does.
void checkTarget(const py::ResolvedTarget& target, const CheckOptions& options, Report& report,
                 const RunCallback& onRun = {});

}  // namespace psleak
