// `psleak run`: options into RunOptions, live run lines, verdict, exit code.

#include <cstdio>

#include "cli_commands.h"
#include "commands/run_command.h"
#include "core/option_parsing.h"
#include "psleak/platform/allocation_counters.h"
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

    RunCallback printRun;
    if (!output.json) {
      printRun = [&](const RunDelta& run, const Assessment&) {
        std::printf("%s\n", formatRunLine(run, TextOptions{output.rawBytes}).c_str());
        std::fflush(stdout);
      };
    }
    const Report report = runCommand(options_, printRun);
    printReport(report, output);
    return static_cast<int>(report.verdict.exitCode());
  }

 private:
  CLI::App* app_ = nullptr;
  RunOptions options_;
  bool noHooks_ = false;
};

}  // namespace

std::unique_ptr<Command> addRunCommand(CLI::App& parent, GlobalOptions& global) {
  return std::make_unique<RunCommand>(parent, global);
}

}  // namespace psleak::cli
