// `psleak run`: options into RunOptions, live run lines, verdict, exit code; or, with
// --targets FILE, many targets each in its own process, summed up in a table.

#include <cstdio>

#include "check_options.h"
#include "cli_commands.h"
#include "commands/isolated_run.h"
#include "commands/run_command.h"
#include "commands/scan_command.h"
#include "psleak/platform/interrupt.h"
#include "report/format.h"
#include "report/json_report.h"

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
    app_->add_option("--targets", targetsFile_,
                     "Check every target of FILE (one `run` target with its options per line, "
                     "or a JSON array), each in its own process");
    addCheckOptions(*app_, options_, cli_, /*defaultTimeout=*/0);
    app_->add_flag("--isolate", isolate_,
                   "Check in a child process: a crash or hang is reported, not fatal "
                   "(implied by --timeout and --targets)");
    app_->add_flag("--trace", options_.trace,
                   "One more run recording allocation stacks: show where live memory comes from");
    addIntegerOption(*app_, "--trace-top", "--trace-top", options_.traceTop, kTraceTopRange,
                     "Call stacks --trace shows");
    addBatchOptions(*app_, cli_);
    addOutputOptions(*app_, global.output);
  }

  CLI::App* app() const override { return app_; }

  int execute(const GlobalOptions& global) override {
    const OutputOptions& output = global.output;
    options_.rawBytes = output.rawBytes;
    try {
      applyCheckOptions(options_, cli_);
      if (!targetsFile_.empty()) return runTargets(output);
    } catch (const UsageError& e) {
      printUsageError("run", e.what(), output.json);
      return static_cast<int>(ExitCode::Usage);
    }

    RunCallback printRun;
    if (!output.json) {
      options_.check.progress = progressLine(output);
      printRun = [&](const RunDelta& run, const Assessment&) {
        clearProgressLine();
        std::printf("%s\n", formatRunLine(run, TextOptions{output.rawBytes}).c_str());
        std::fflush(stdout);
      };
    }
    Report report;
    if (isolate_ || cli_.timeoutSeconds > 0) {
      platform::installInterruptHandler();
      report = runIsolated(options_, printRun, cli_.timeoutSeconds);
    } else {
      announceCrash(output);
      report = runCommand(options_, printRun);
    }
    printReport(report, output);
    ScanReport single;
    single.command = "run";
    single.results.push_back(report);
    single.durationSeconds = report.durationSeconds;
    if (!writeReportFiles(single, cli_, output)) return static_cast<int>(ExitCode::Usage);
    return static_cast<int>(report.verdict.exitCode());
  }

 private:
  // Without --isolate a crash of the target is psleak's own: say so on the way out.
  void announceCrash(const OutputOptions& output) {
    const std::string hint = " while checking " +
                             (options_.targetText.empty() ? "-e " + options_.target.expression
                                                          : options_.targetText) +
                             "; run with --isolate to keep the report";
    if (output.json) {
      Report report = describeRun(options_);
      report.verdict = errorVerdict("crash", "@@SIGNAL@@");
      const std::string document = jsonText(toJson(report), 2) + "\n";
      const std::size_t at = document.find("@@SIGNAL@@");
      platform::installFatalSignalReport(1, document.substr(0, at) + "the target crashed psleak: ",
                                         hint + document.substr(at + 10));
    } else {
      platform::installFatalSignalReport(2, "psleak: error: the target crashed psleak: ", hint + "\n");
    }
  }

  int runTargets(const OutputOptions& output) {
    if (!options_.targetText.empty() || !options_.target.expression.empty()) {
      throw UsageError("--targets FILE names the targets: give no MODULE:ATTR or -e with it");
    }
    const std::vector<RunOptions> targets = readTargetsFile(targetsFile_, options_);
    platform::installInterruptHandler();
    ScanReport scan = runBatch(targets, {cli_.jobs, cli_.timeoutSeconds}, [&](const Report& r) {
      if (!output.json) std::fprintf(stderr, "%s\n", formatScanRow(r, output.rawBytes).c_str());
    });
    scan.command = "run";
    return finishBatch(scan, cli_, output);
  }

  CLI::App* app_ = nullptr;
  RunOptions options_;
  CheckCliOptions cli_;
  std::string targetsFile_;
  bool isolate_ = false;
};

}  // namespace

std::unique_ptr<Command> addRunCommand(CLI::App& parent, GlobalOptions& global) {
  return std::make_unique<RunCommand>(parent, global);
}

}  // namespace psleak::cli
