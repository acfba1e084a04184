// `psleak run`: options into RunOptions, live run lines, verdict, exit code.

#include <cstdio>

#include "cli_commands.h"
#include "commands/isolated_run.h"
#include "commands/run_command.h"
#include "core/option_parsing.h"
#include "psleak/platform/allocation_counters.h"
#include "psleak/platform/interrupt.h"
#include "report/format.h"

namespace psleak::cli {
namespace {

class RunCommand : public Command {
 public:
  RunCommand(CLI::App& parent, GlobalOptions& global) {
    app_ = parent.add_subcommand("run", "Call a Python callable in a loop and tell whether it leaks");
    app_->add_option("target", options_.targetText,
                     "MODULE:ATTR to call, e.g. json:dumps or pkg.mod:Class.method");
    app_->add_option("-e,--expr", options_.target.expression,
                     "Statement to check instead of a target (like python -m timeit)");
    app_->add_option("-s,--setup", options_.target.setup,
                     "Code run once first, in the namespace of --args and --expr (repeatable)")
        ->allow_extra_args(false);
    app_->add_option("--args", options_.target.args,
                     "Python expression passed as the next positional argument (repeatable)")
        ->allow_extra_args(false);
    app_->add_option("--kwarg", options_.kwargTexts, "NAME=EXPR keyword argument (repeatable)")
        ->allow_extra_args(false);
    app_->add_option("--expect-exception", options_.target.expectException,
                     "Each call must raise this exception (e.g. ValueError); it is swallowed");
    app_->add_option("--warmup", options_.check.warmup, "Calls before the first run")
        ->capture_default_str();
    app_->add_option("--calls", options_.check.calls,
                     "Calls in the first run; each later run adds half as many")
        ->capture_default_str();
    app_->add_option("--retries", options_.check.detector.retries,
                     "Runs after which growth that never stops is a leak")
        ->capture_default_str();
    app_->add_option("--tolerance", options_.toleranceTexts,
                     "Growth in bytes that counts as none: BYTES, or METRIC=BYTES (repeatable)")
        ->allow_extra_args(false);
    app_->add_option("--checks", options_.checkTexts,
                     "Only these checks: memory,fd,thread,pythread,gc,refcount (default: all)")
        ->allow_extra_args(false);
    app_->add_option("--skip", options_.skipTexts, "Leave out these checks (same names as --checks)")
        ->allow_extra_args(false);
    app_->add_option("--max-growth", maxGrowthText_,
                     "Stop with a leak verdict once RSS, USS or the heap grew this much "
                     "(BYTES, e.g. 512M; 0: no limit)")
        ->default_str("1G");
    app_->add_flag("--isolate", isolate_,
                   "Check in a child process: a crash or hang is reported, not fatal");
    app_->add_option("--timeout", timeoutSeconds_,
                     "Seconds the whole check may take; a hang is reported (implies --isolate)")
        ->check(CLI::NonNegativeNumber);
    app_->add_flag("--no-hooks", noHooks_,
                   "Measure with allocator statistics and /proc alone, without psleak's exact "
                   "allocation counters (as PSLEAK_NO_HOOKS=1 does)");
    app_->add_flag("--trace", options_.trace,
                   "One more run recording allocation stacks: show where live memory comes from");
    app_->add_option("--trace-top", options_.traceTop, "Call stacks --trace shows")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    addInterpreterOptions(*app_, options_.interpreter);
    addOutputOptions(*app_, global.output);
  }

  CLI::App* app() const override { return app_; }

  int execute(const GlobalOptions& global) override {
    const OutputOptions& output = global.output;
    options_.rawBytes = output.rawBytes;
    if (noHooks_) platform::stopAllocationCounting();
    if (!maxGrowthText_.empty()) {
      try {
        options_.check.maxGrowth = parseByteCount(maxGrowthText_, "--max-growth");
      } catch (const UsageError& e) {
        printUsageError("run", e.what(), output.json);
        return static_cast<int>(ExitCode::Usage);
      }
    }

    RunCallback printRun;
    if (!output.json) {
      printRun = [&](const RunDelta& run, const Assessment&) {
        std::printf("%s\n", formatRunLine(run, TextOptions{output.rawBytes}).c_str());
        std::fflush(stdout);
      };
    }
    Report report;
    if (isolate_ || timeoutSeconds_ > 0) {
      platform::installInterruptHandler();
      report = runIsolated(options_, printRun, timeoutSeconds_);
    } else {
      report = runCommand(options_, printRun);
    }
    printReport(report, output);
    return static_cast<int>(report.verdict.exitCode());
  }

 private:
  CLI::App* app_ = nullptr;
  RunOptions options_;
  bool noHooks_ = false;
  bool isolate_ = false;
  double timeoutSeconds_ = 0;
  std::string maxGrowthText_;
};

}  // namespace

std::unique_ptr<Command> addRunCommand(CLI::App& parent, GlobalOptions& global) {
  return std::make_unique<RunCommand>(parent, global);
}

}  // namespace psleak::cli
