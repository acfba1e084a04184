// `psleak scan MODULE...`: every public callable that takes no arguments, each checked
// in its own process; a summary table, exit 1 if any leaks.

#include <cstdio>

#include "batch_progress.h"
#include "check_options.h"
#include "cli_commands.h"
#include "commands/scan_command.h"
#include "core/errors.h"
#include "psleak/platform/interrupt.h"
#include "psleak/platform/report_output.h"
#include "report/format.h"
#include "report/json_report.h"

namespace psleak::cli {
namespace {

// A hang in one target must not stall a whole scan.
constexpr double kScanTimeoutSeconds = 120;

class ScanCommand : public Command {
 public:
  ScanCommand(CLI::App& parent, GlobalOptions& global) {
    app_ = parent.add_subcommand(
        "scan", "Check every public function of modules that can be called with no arguments");
    app_->add_option("modules", options_.modules, "Modules to scan, e.g. zlib time")->required();
    app_->add_option("--include", options_.include,
                     "Only targets matching this glob (name or MODULE:NAME; repeatable)")
        ->allow_extra_args(false);
    app_->add_option("--exclude", options_.exclude,
                     "Leave out targets matching this glob (repeatable)")
        ->allow_extra_args(false);
    app_->add_flag("--list", list_,
                   "Call nothing: print the targets a scan would check, one per line (a "
                   "--targets file); with --json one document");
    app_->add_flag("--show-skipped", cli_.showSkipped,
                   "List the callables that cannot be called with no arguments, each with "
                   "why (by default one line counts them)");
    app_->add_flag("--junit-skipped", cli_.junitSkipped,
                   "Also write each skipped callable to the --junit report as a skipped test "
                   "(by default it holds the targets checked)");
    addCheckOptions(*app_, options_.base, cli_, kScanTimeoutSeconds);
    addBatchOptions(*app_, cli_);
    addOutputOptions(*app_, global.output);
  }

  CLI::App* app() const override { return app_; }

  int execute(const GlobalOptions& global) override {
    const OutputOptions& output = global.output;
    options_.base.rawBytes = output.rawBytes;
    try {
      if (list_ && (!cli_.junitPath.empty() || !cli_.plotPath.empty())) {
        throw UsageError(std::string("--list calls nothing, so there is no ") +
                         (cli_.junitPath.empty() ? "--plot" : "--junit") + " report to write");
      }
      applyCheckOptions(options_.base, cli_);
    } catch (const UsageError& e) {
      printUsageError("scan", e.what(), output.json);
      return static_cast<int>(ExitCode::Usage);
    }
    options_.batch = {cli_.jobs, cli_.timeoutSeconds};
    // Target code runs in child processes only; their stdout goes to stderr all the same.
    platform::separateReportFromTargetOutput();
    platform::installInterruptHandler();
    if (list_) return listTargets(output);
    ScanReport scan;
    {
      BatchProgress progress(output, "scan");
      scan = runScan(
          options_, [&](const Report& r) { progress.finished(r); },
          [&](std::size_t targets) { progress.planned(targets); });
    }  // the progress line is off the screen before the table
    const int code = finishBatch(scan, cli_, output);
    if (scan.results.empty() && !scan.interrupted) printNothingMatched(scan.skipped.size());
    return code;
  }

 private:
  // --list: the targets on stdout (or one JSON document); the skipped callables and the
  // modules that could not be imported on stderr.
  int listTargets(const OutputOptions& output) {
    const ScanListing listing = listScan(options_, {});
    if (output.json) {
      printJson(toJson(listing));
      return listing.exitCode();
    }
    writeStdout(formatScanListing(listing));
    std::fflush(stdout);
    for (const Report& error : listing.moduleErrors) {
      std::fprintf(stderr, "psleak: error: %s\n", error.verdict.message.c_str());
    }
    std::fputs(formatSkipped(listing.skipped, TextOptions{output.rawBytes, cli_.showSkipped}).c_str(),
               stderr);
    if (listing.targets.empty() && listing.moduleErrors.empty() && !listing.interrupted) {
      printNothingMatched(listing.skipped.size());
    }
    return listing.exitCode();
  }

  // Most likely a typo in --include; the exit code makes it a usage error.
  void printNothingMatched(std::size_t skipped) const {
    std::fprintf(stderr, "psleak: error: nothing to check: no callable of %zu module%s matched "
                         "(%zu skipped)\n",
                 options_.modules.size(), options_.modules.size() == 1 ? "" : "s", skipped);
  }

  CLI::App* app_ = nullptr;
  ScanOptions options_;
  CheckCliOptions cli_;
  bool list_ = false;
};

}  // namespace

std::unique_ptr<Command> addScanCommand(CLI::App& parent, GlobalOptions& global) {
  return std::make_unique<ScanCommand>(parent, global);
}

}  // namespace psleak::cli
