#include "commands/run_command.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "core/errors.h"
#include "core/option_parsing.h"
#include "psleak/platform/allocation_counters.h"
#include "psleak/platform/fork_watch.h"
#include "psleak/platform/interrupt.h"
#include "psleak/platform/system_info.h"
#include "commands/check_target.h"
#include "python/python_workload.h"

namespace psleak {
namespace {

TargetDescription describeTarget(const RunOptions& options) {
  TargetDescription target;
  target.spec = options.targetText;
  target.expression = options.target.expression;
  target.setup = options.target.setup;
  target.args = options.target.args;
  // From the text as typed, so that a report of a bad --kwarg still shows it.
  for (const std::string& text : options.kwargTexts) {
    const std::size_t equals = text.find('=');
    target.kwargs.emplace_back(text.substr(0, equals),
                               equals == std::string::npos ? std::string() : text.substr(equals + 1));
  }
  target.expectException = options.target.expectException;
  return target;
}

CheckSettingsDescription describeSettings(const RunOptions& options) {
  const MemoryCheckSettings& check = options.check;
  return {check.warmup,           check.calls,    check.detector.retries, check.detector.tolerance,
          options.checks.names(), describeHooks()};
}



InterpreterDescription describeInterpreter(const py::InterpreterInfo& info) {
  return {info.version, info.executable, info.prefix, info.allocator};
}

// Parses what came as text and checks what needs no interpreter.
void validate(RunOptions& options) {
  for (const std::string& text : options.kwargTexts) {
    options.target.kwargs.push_back(parseKeywordArgument(text));
  }
  // A bare byte count is the default for every metric; METRIC=BYTES values refine it,
  // whatever their order on the command line.
  for (bool perMetric : {false, true}) {
    for (const std::string& text : options.toleranceTexts) {
      if ((text.find('=') != std::string::npos) == perMetric) {
        applyTolerance(text, options.check.detector.tolerance);
      }
    }
  }
  options.checks = CheckSelection::fromOptions(options.checkTexts, options.skipTexts);
  options.checks.applyStrictOptions(options.strictTexts);
  const bool hasSpec = !options.targetText.empty();
  const bool hasExpression = !options.target.expression.empty();
  if (hasSpec == hasExpression) {
    throw UsageError(hasSpec ? "give either a target MODULE:ATTR or -e/--expr, not both"
                             : "no target: give MODULE:ATTR (e.g. json:dumps) or -e/--expr STMT");
  }
  if (hasSpec) options.target.spec = TargetSpec::parse(options.targetText);
  // Checked as the command line is parsed too; here for options built otherwise.
  checkInRange(options.check.calls, "--calls", kCallsRange);
  checkInRange(options.check.warmup, "--warmup", kWarmupRange);
  checkInRange(options.check.detector.retries, "--retries", kRetriesRange);
  checkInRange(static_cast<std::int64_t>(options.traceTop), "--trace-top", kTraceTopRange);
  if (options.trace && !platform::allocationHooksActive()) {
    const std::string& problem = platform::allocationCountingProblem();
    throw UsageError("--trace needs psleak's allocation counters, " +
                     (problem.empty() ? std::string("which --no-hooks / PSLEAK_NO_HOOKS turn off")
                                      : "but " + problem));
  }
}

// What target code printed reaches stderr before psleak's report, whatever way the check
// ends: the interpreter is never finalized, so its buffers are flushed here (not in a
// child the target forked, which would write the parent's buffered output twice).
struct FlushOnExit {
  const platform::ForkWatch& forkWatch;
  ~FlushOnExit() {
    if (Py_IsInitialized() && !forkWatch.inForkedChildStrict()) py::flushStdio();
  }
};

void measure(RunOptions& options, Report& report, const RunCallback& onRun,
             const PhaseCallback& onPhase, const platform::ForkWatch& forkWatch) {
  if (options.progress) options.progress->step("starting Python", 0, 0);
  options.interpreter.importBuiltinModules = false;  // a check calls no part of it
  py::Interpreter interpreter(options.interpreter);
  // Whatever the target left behind (threads, half-torn state) must not hang or crash
  // psleak after the verdict: the process exits without finalizing Python.
  interpreter.abandon();
  const FlushOnExit flush{forkWatch};
  report.interpreter = describeInterpreter(interpreter.info());
  // After the interpreter's own SIGINT handler, which it would replace.
  platform::installInterruptHandler();

  if (options.progress) options.progress->step("importing the target", 0, 0);
  const py::ResolvedTarget target = py::resolveTarget(options.target);
  // The import or --setup may have forked: only the process that started stays.
  if (forkWatch.inForkedChildStrict()) platform::leaveForkedChild();
  CheckOptions check;
  check.check = options.check;
  check.checks = options.checks;
  check.rawBytes = options.rawBytes;
  check.trace = options.trace;
  check.traceTop = options.traceTop;
  check.progress = options.progress;
  checkTarget(target, check, report, onRun, onPhase);
}

}  // namespace

Report describeRun(const RunOptions& options) {
  Report report;
  report.command = "run";
  report.target = describeTarget(options);
  report.settings = describeSettings(options);
  const platform::SystemInfo system = platform::systemInfo();
  report.platform = PlatformDescription{system.system, system.release, system.machine, system.libc};
  return report;
}

Report runCommand(RunOptions options, const RunCallback& onRun, const PhaseCallback& onPhase) {
  const platform::ForkWatch forkWatch;
  const auto start = std::chrono::steady_clock::now();
  Report report = describeRun(options);

  try {
    validate(options);
    report.target = describeTarget(options);
    report.settings = describeSettings(options);
    if (onPhase) onPhase(kImportPhase);
    measure(options, report, onRun, onPhase, forkWatch);
  } catch (const UsageError& e) {
    report.verdict = errorVerdict("usage", e.what());
  } catch (const TargetError& e) {
    report.verdict = errorVerdict("target", e.what(), e.details());
  } catch (const Interrupted& e) {
    report.verdict = errorVerdict(e.kind(), e.what());
  } catch (const std::exception& e) {
    report.verdict = errorVerdict("internal", e.what());
  }
  // A child the target forked that failed on its way back (an import or --setup that
  // forked, then raised) must not report either.
  if (forkWatch.inForkedChildStrict()) platform::leaveForkedChild();
  report.durationSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace psleak
