// `psleak scan MODULE...`: every public callable that takes no arguments, each checked
// in its own process; a summary table, exit 1 if any leaks.

#include <cstdio>

#include "check_options.h"
#include "cli_commands.h"
#include "commands/scan_command.h"
#include "core/errors.h"
#include "psleak/platform/interrupt.h"
#include "psleak/platform/report_output.h"
#include "report/format.h"

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
    addCheckOptions(*app_, options_.base, cli_, kScanTimeoutSeconds);
    addBatchOptions(*app_, cli_);
    addOutputOptions(*app_, global.output);
  }

  CLI::App* app() const override { return app_; }

  int execute(const GlobalOptions& global) override {
    const OutputOptions& output = global.output;
    options_.base.rawBytes = output.rawBytes;
    try {
      applyCheckOptions(options_.base, cli_);
    } catch (const UsageError& e) {
      printUsageError("scan", e.what(), output.json);
      return static_cast<int>(ExitCode::Usage);
    }
    options_.batch = {cli_.jobs, cli_.timeoutSeconds};
    // Target code runs in child processes only; their stdout goes to stderr all the same.
    platform::separateReportFromTargetOutput();
    platform::installInterruptHandler();
    const ScanReport scan = runScan(options_, [&](const Report& r) {
      // Progress as each target ends; the table follows on stdout.
      if (!output.json) std::fprintf(stderr, "%s\n", formatScanRow(r, output.rawBytes).c_str());
    });
    const int code = finishBatch(scan, cli_, output);
    if (scan.results.empty() && !scan.interrupted) {
      // Most likely a typo in --include; ScanReport::exitCode makes it a usage error.
      std::fprintf(stderr, "psleak: error: nothing to check: no callable of %zu module%s matched "
                           "(%zu skipped)\n",
                   options_.modules.size(), options_.modules.size() == 1 ? "" : "s", scan.skipped.size());
    }
    return code;
  }

 private:
  CLI::App* app_ = nullptr;
  ScanOptions options_;
  CheckCliOptions cli_;
};

}  // namespace

std::unique_ptr<Command> addScanCommand(CLI::App& parent, GlobalOptions& global) {
  return std::make_unique<ScanCommand>(parent, global);
}

}  // namespace psleak::cli
