#include "commands/check_target.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <optional>

#include "psleak/platform/allocation_counters.h"
#include "psleak/platform/open_fds.h"
#include "python/python_frame_recorder.h"
#include "python/python_workload.h"
#include "python/resource_checks.h"
#include "runner/allocation_trace.h"
#include "runner/growth_guard.h"
#include "runner/process_sampler.h"

namespace psleak {
namespace {

bool anyOneCallCheck(const CheckSelection& checks) {
  return checks.enabled(CheckKind::Fd) || checks.enabled(CheckKind::Thread) ||
         checks.enabled(CheckKind::PyThread) || checks.enabled(CheckKind::Gc);
}

std::string runPhase(int run) {
  if (run == 1) return "during run 1";
  return fmt::format("during run {} (after {} complete run{})", run, run - 1, run == 2 ? "" : "s");
}

}  // namespace

HooksDescription describeHooks() {
  return {platform::allocationHooksActive(), platform::allocationCountingProblem()};
}

void checkTarget(const py::ResolvedTarget& target, const CheckOptions& options, Report& report,
                 const RunCallback& onRun, const PhaseCallback& onPhase) {
  py::PythonWorkload python(target, options.clearCallback, options.routing);
  ProcessSampler sampler;
  std::optional<GrowthGuard> guard;
  if (options.check.maxGrowth > 0) guard.emplace(python, sampler, options.check.maxGrowth);
  Workload& guarded = guard ? static_cast<Workload&>(*guard) : python;
  std::optional<ProgressWorkload> shown;
  if (options.progress) shown.emplace(guarded, *options.progress);
  Workload& workload = shown ? static_cast<Workload&>(*shown) : guarded;
  auto startStep = [&](const char* name, int run, std::int64_t calls) {
    if (shown) shown->startStep(name, run, calls);
  };
  std::string phase;
  phase.reserve(128);  // kept between runs: it must not grow while memory is measured
  auto enter = [&](const std::string& where) {
    phase.assign(where);  // into the room reserved above
    if (onPhase) onPhase(phase);
  };

  // However the check ends.
  struct CountCalls {
    const py::PythonWorkload& python;
    Report& report;
    ~CountCalls() { report.callsMade = python.callsMade(); }
  } countCalls{python, report};

  const CheckSelection& checks = options.checks;
  std::optional<Assessment> memory;
  try {
    spdlog::info("checking {} ({}): {} warm-up calls", target.description,
                 fmt::join(checks.names(), ","), options.check.warmup);
    enter("before run 1, during the warm-up calls");
    startStep("warm-up", 0, options.check.warmup);
    workload.call(options.check.warmup);

    if (anyOneCallCheck(checks)) {
      spdlog::info("resource checks around one call");
      enter("before run 1, during the resource checks");
      startStep("resource checks", 0, 0);
      for (Finding& finding : py::checkResourcesAroundOneCall(workload, checks)) {
        report.findings.push_back(std::move(finding));
      }
    }
    // A target that leaves a descriptor or thread behind on every call would run the
    // process out of them in the thousands of calls that follow.
    const bool unsafeToRepeat = py::exhaustsResources(report.findings);
    const char* skipped = "check skipped: every call leaves a descriptor or thread behind";

    std::optional<py::RefcountsAtRuns> refcounts;
    std::optional<py::DescriptorsAtRuns> descriptors;
    if (checks.enabled(CheckKind::Memory)) {
      if (unsafeToRepeat) {
        report.findings.push_back({CheckKind::Memory, Severity::Warning, std::string("memory ") + skipped, {}});
      } else {
        MemoryCheckSettings runs = options.check;
        runs.warmup = 0;     // done above, before the resource checks
        runs.maxGrowth = 0;  // `workload` is guarded already
        // The reference counts and the open descriptors are read between the memory
        // runs: one series of calls serves every check.
        if (checks.enabled(CheckKind::Refcount)) refcounts.emplace(target);
        // Listed once here, before the caches are cleared for run 1; between the runs
        // they are only counted, which allocates nothing (a listing there moved glibc's
        // heap_used enough, without the hooks, to tip a noisy function into a leak:
        // inspect.getsourcelines over a pool of modules, 6 in 8 against 1 in 8).
        if (checks.enabled(CheckKind::Fd)) {
          descriptors.emplace(platform::listOpenFds(), static_cast<std::size_t>(runs.detector.retries) + py::kDescriptorRuns);
        }
        runs.onRunStart = [&](int run) {
          enter(runPhase(run));
          startStep("run", run, callsForRun(run, options.check.calls));
          if (run != 1) return;
          if (refcounts) refcounts->reads.push_back(refcounts->probe.read());
          if (descriptors) descriptors->countBeforeRuns();
        };
        spdlog::info("memory runs of {}+ calls (at most {} runs)", runs.calls, runs.detector.retries);
        memory = runMemoryCheck(workload, sampler, runs,
                                [&](const RunDelta& run, const Assessment& a) {
                                  report.runs.push_back(run);
                                  if (refcounts) {
                                    refcounts->reads.push_back(refcounts->probe.read());
                                    refcounts->calls.push_back(run.calls);
                                  }
                                  if (descriptors) descriptors->countAfterRun(run.calls);
                                  if (onRun) onRun(run, a);
                                })
                     .assessment;
        if (memory->decision == Decision::Leak) {
          report.findings.insert(report.findings.begin(), memoryLeakFinding(*memory, options.rawBytes));
        }
        if (memory->limitExceeded > 0) {  // no further call
          report.verdict = composeVerdict(memory, report.runs, report.findings);
          return;
        }
        // A count that moved in runs too few to judge it gets the runs that follow.
        py::completeRunsForCounts(workload, refcounts ? &*refcounts : nullptr,
                                  descriptors ? &*descriptors : nullptr, [&](int run) {
                                    const std::int64_t calls = callsForRun(run, options.check.calls);
                                    enter(fmt::format("during run {} (made for the reference and descriptor counts)", run));
                                    startStep("counts run", run, calls);
                                    return calls;
                                  });
        if (descriptors) {
          for (Finding& finding : py::judgeDescriptorsAtRuns(*descriptors)) {
            report.findings.push_back(std::move(finding));
          }
        }
      }
    }
    if (checks.enabled(CheckKind::Refcount)) {
      if (unsafeToRepeat) {
        report.findings.push_back({CheckKind::Refcount, Severity::Warning, std::string("refcount ") + skipped, {}});
      } else {
        enter("during the reference-count calls");
        startStep("reference counts", 0, 0);
        std::vector<Finding> found;
        if (refcounts) {
          spdlog::info("reference counts read between the memory runs");
          found = py::judgeRefcountsAtRuns(*refcounts);
        } else {
          spdlog::info("reference counts around {} and {} calls", options.check.calls, 2 * options.check.calls);
          found = py::checkRefcounts(workload, target, options.check.calls);
        }
        for (Finding& finding : found) report.findings.push_back(std::move(finding));
      }
    }
    if (options.trace) {
      if (unsafeToRepeat) {
        report.findings.push_back({CheckKind::Memory, Severity::Warning, std::string("--trace ") + skipped, {}});
      } else {
        spdlog::info("traced run of {} calls", options.check.calls);
        enter("during the traced run (--trace)");
        startStep("traced run", 0, options.check.calls);
        const auto recordPythonFrames = [] { return std::make_unique<py::PythonFrameRecorder>(); };
        report.trace = traceLiveAllocations(workload, recordPythonFrames, options.check.calls,
                                            options.traceTop, options.progress);
      }
    }
  } catch (const GrowthLimitExceeded& e) {
    // Outside the memory runs (which end with a verdict of their own): say where.
    report.findings.insert(report.findings.begin(),
                           growthLimitFinding(e.limit(), e.past(), phase, options.rawBytes));
    report.verdict = composeVerdict(memory, report.runs, report.findings);
    report.verdict.growing = e.past();
    return;
  }
  report.verdict = composeVerdict(memory, report.runs, report.findings);
}

}  // namespace psleak
