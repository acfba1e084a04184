// `psleak run`: options into RunOptions, live run lines, verdict, exit code; or, with
// --targets FILE, many targets each in its own process, summed up in a table.

#include <cstdio>

#include "batch_progress.h"
#include "check_options.h"
#include "cli_commands.h"
#include "commands/isolated_run.h"
#include "commands/run_command.h"
#include "commands/scan_command.h"
#include "last_words.h"
#include "psleak/platform/interrupt.h"
#include "psleak/platform/last_words.h"
#include "psleak/platform/report_output.h"
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
    // From here on target code may run, here or in a child: its stdout goes to stderr.
    platform::separateReportFromTargetOutput();

    const std::unique_ptr<ProgressLine> progress = ProgressLine::create(output);
    options_.progress = progress.get();
    RunCallback printRun;
    if (!output.json) {
      printRun = [&](const RunDelta& run, const Assessment&) {
        clearProgressLine();
        writeStdout(formatRunLine(run, TextOptions{output.rawBytes}) + "\n");
      };
    }
    Report report;
    if (isolate_ || cli_.timeoutSeconds > 0) {
      platform::installInterruptHandler();
      report = runIsolated(options_, printRun, cli_.timeoutSeconds);
    } else {
      // The target runs in this process: if it ends it, psleak still has its say.
      LastWords lastWords(options_, output);
      report = runCommand(
          options_,
          [&](const RunDelta& run, const Assessment& assessment) {
            if (printRun) printRun(run, assessment);
            lastWords.onRun(run);
          },
          [&](const std::string& where) { lastWords.onPhase(where); });
      platform::beginOwnReport();
    }
    ScanReport single;
    single.command = "run";
    single.results.push_back(report);
    single.durationSeconds = report.durationSeconds;
    const std::string fileError = writeReportFiles(single, cli_, output);
    if (!fileError.empty() && output.json) {
      // The document's exit code is the process's.
      report.verdict = errorVerdict("output", fileError,
                                    "the check's own verdict: " + formatVerdictLine(report.verdict));
    }
    printReport(report, output);
    if (!fileError.empty()) {
      if (!output.json) std::fprintf(stderr, "psleak: error: %s\n", fileError.c_str());
      return static_cast<int>(ExitCode::Internal);
    }
    return static_cast<int>(report.verdict.exitCode());
  }

 private:
  int runTargets(const OutputOptions& output) {
    if (!options_.targetText.empty() || !options_.target.expression.empty()) {
      throw UsageError("--targets FILE names the targets: give no MODULE:ATTR or -e with it");
    }
    const std::vector<RunOptions> targets = readTargetsFile(targetsFile_, options_);
    platform::separateReportFromTargetOutput();
    platform::installInterruptHandler();
    ScanReport scan;
    {
      BatchProgress progress(output, "run --targets");
      progress.planned(targets.size());
      scan = runBatch(targets, {cli_.jobs, cli_.timeoutSeconds},
                      [&](const Report& r) { progress.finished(r); });
    }  // the progress line is off the screen before the table
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
