#include "commands/run_command.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "core/errors.h"
#include "psleak/platform/system_info.h"
#include "python/python_workload.h"
#include "python/resource_checks.h"
#include "runner/process_sampler.h"

namespace psleak {
namespace {

TargetDescription describeTarget(const RunOptions& options) {
  TargetDescription target;
  target.spec = options.targetText;
  target.expression = options.target.expression;
  target.setup = options.target.setup;
  target.args = options.target.args;
  target.kwargs = options.target.kwargs;
  target.expectException = options.target.expectException;
  return target;
}

CheckSettingsDescription describeSettings(const RunOptions& options) {
  const MemoryCheckSettings& check = options.check;
  return {check.warmup, check.calls, check.detector.retries, check.detector.tolerance,
          options.checks.names()};
}

bool anyOneCallCheck(const CheckSelection& checks) {
  return checks.enabled(CheckKind::Fd) || checks.enabled(CheckKind::Thread) ||
         checks.enabled(CheckKind::PyThread) || checks.enabled(CheckKind::Gc);
}

InterpreterDescription describeInterpreter(const py::InterpreterInfo& info) {
  return {info.version, info.executable, info.prefix, info.allocator};
}

// Checks the parts of the request that need no interpreter.
void validate(RunOptions& options) {
  const bool hasSpec = !options.targetText.empty();
  const bool hasExpression = !options.target.expression.empty();
  if (hasSpec == hasExpression) {
    throw UsageError(hasSpec ? "give either a target MODULE:ATTR or -e/--expr, not both"
                             : "no target: give MODULE:ATTR (e.g. json:dumps) or -e/--expr STMT");
  }
  if (hasSpec) options.target.spec = TargetSpec::parse(options.targetText);
  if (options.check.calls < 1) throw UsageError("--calls must be at least 1");
  if (options.check.warmup < 0) throw UsageError("--warmup must not be negative");
  if (options.check.detector.retries < 1) throw UsageError("--retries must be at least 1");
}

void measure(RunOptions& options, Report& report, const RunCallback& onRun) {
  validate(options);

  py::Interpreter interpreter(options.interpreter);
  // Whatever the target left behind (threads, half-torn state) must not hang or crash
  // psleak after the verdict: the process exits without finalizing Python.
  interpreter.abandon();
  report.interpreter = describeInterpreter(interpreter.info());

  const py::ResolvedTarget target = py::resolveTarget(options.target);
  py::PythonWorkload workload(target);
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
  report.verdict = composeVerdict(memory, report.runs, report.findings);
}

}  // namespace

Report runCommand(RunOptions options, const RunCallback& onRun) {
  const auto start = std::chrono::steady_clock::now();
  Report report;
  report.command = "run";
  report.target = describeTarget(options);
  report.settings = describeSettings(options);
  const platform::SystemInfo system = platform::systemInfo();
  report.platform = PlatformDescription{system.system, system.release, system.machine, system.libc};

  try {
    measure(options, report, onRun);
  } catch (const UsageError& e) {
    report.verdict = errorVerdict("usage", e.what());
  } catch (const TargetError& e) {
    report.verdict = errorVerdict("target", e.what(), e.details());
  } catch (const std::exception& e) {
    report.verdict = errorVerdict("internal", e.what());
  }
  report.durationSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace psleak
