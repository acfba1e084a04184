#include "commands/check_target.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <optional>

#include "psleak/platform/allocation_counters.h"
#include "python/python_workload.h"
#include "python/resource_checks.h"
#include "runner/allocation_trace.h"
#include "runner/process_sampler.h"

namespace psleak {
namespace {

bool anyOneCallCheck(const CheckSelection& checks) {
  return checks.enabled(CheckKind::Fd) || checks.enabled(CheckKind::Thread) ||
         checks.enabled(CheckKind::PyThread) || checks.enabled(CheckKind::Gc);
}

}  // namespace

HooksDescription describeHooks() {
  return {platform::allocationHooksActive(), platform::allocationCountingProblem()};
}

void checkTarget(const py::ResolvedTarget& target, const CheckOptions& options, Report& report,
                 const RunCallback& onRun) {
  py::PythonWorkload workload(target, options.clearCallback, options.routing);
  ProcessSampler sampler;
  const CheckSelection& checks = options.checks;
  spdlog::info("checking {} ({}): {} warm-up calls", target.description,
               fmt::join(checks.names(), ","), options.check.warmup);
  workload.call(options.check.warmup);

  if (anyOneCallCheck(checks)) {
    spdlog::info("resource checks around one call");
    for (Finding& finding : py::checkResourcesAroundOneCall(workload, checks)) {
      report.findings.push_back(std::move(finding));
    }
  }
  // A target that leaves a descriptor or thread behind on every call would run the
  // process out of them in the thousands of calls that follow.
  const bool unsafeToRepeat = py::exhaustsResources(report.findings);
  const char* skipped = "check skipped: every call leaves a descriptor or thread behind";

  std::optional<Assessment> memory;
  if (checks.enabled(CheckKind::Memory)) {
    if (unsafeToRepeat) {
      report.findings.push_back({CheckKind::Memory, Severity::Warning, std::string("memory ") + skipped, {}});
    } else {
      MemoryCheckSettings runs = options.check;
      runs.warmup = 0;  // done above, before the resource checks
      spdlog::info("memory runs of {}+ calls (at most {} runs)", runs.calls, runs.detector.retries);
      memory = runMemoryCheck(workload, sampler, runs,
                              [&](const RunDelta& run, const Assessment& a) {
                                report.runs.push_back(run);
                                if (onRun) onRun(run, a);
                              })
                   .assessment;
      if (memory->decision == Decision::Leak) {
        report.findings.insert(report.findings.begin(), memoryLeakFinding(*memory, options.rawBytes));
      }
    }
  }
  if (checks.enabled(CheckKind::Refcount)) {
    if (unsafeToRepeat) {
      report.findings.push_back({CheckKind::Refcount, Severity::Warning, std::string("refcount ") + skipped, {}});
    } else {
      spdlog::info("reference counts around {} and {} calls", options.check.calls, 2 * options.check.calls);
      for (Finding& finding : py::checkRefcounts(workload, target, options.check.calls)) {
        report.findings.push_back(std::move(finding));
      }
    }
  }
  if (options.trace) {
    if (unsafeToRepeat) {
      report.findings.push_back({CheckKind::Memory, Severity::Warning, std::string("--trace ") + skipped, {}});
    } else {
      spdlog::info("traced run of {} calls", options.check.calls);
      report.trace = traceLiveAllocations(workload, options.check.calls, options.traceTop);
    }
  }
  report.verdict = composeVerdict(memory, report.runs, report.findings);}

}  // namespace psleak
