#pragma once
// The options `run` and `scan` share: how each target is checked, and the report files.

#include <CLI/CLI.hpp>
#include <string>

#include "commands/run_command.h"
#include "core/errors.h"
#include "core/option_parsing.h"
#include "report/scan_report.h"
#include "terminal_output.h"

namespace psleak::cli {

// An integer option checked against its documented range as it is parsed: "--calls:
// 0 is not in 1..10000000" (CLI11's own conversion would clamp 99999999999999999999 to
// the largest integer without a word). `names` as CLI11 takes them ("-j,--jobs"),
// `option` as error messages show it ("--jobs").
template <typename Integer>
CLI::Option* addIntegerOption(CLI::App& app, const std::string& names, const std::string& option,
                              Integer& value, IntegerRange range, const std::string& description) {
  return app
      .add_option_function<std::string>(
          names,
          [&value, option, range](const std::string& text) {
            try {
              value = static_cast<Integer>(parseInteger(text, option, range));
            } catch (const UsageError& e) {
              throw CLI::ValidationError(e.what());  // taken by main as a usage error
            }
          },
          description + " (" + std::to_string(range.min) + ".." + std::to_string(range.max) + ")")
      ->type_name("INT")
      ->default_str(std::to_string(value));
}

struct CheckCliOptions {
  std::string maxGrowthText;
  bool noHooks = false;
  double timeoutSeconds = 0;
  int jobs = 1;
  std::string junitPath;  // --junit FILE
  std::string plotPath;   // --plot FILE.svg
  bool showSkipped = false;   // scan --show-skipped: the table lists the skipped callables
  bool junitSkipped = false;  // scan --junit-skipped: so does the JUnit report
};

// --warmup --calls --retries --tolerance --checks --skip --max-growth --no-hooks
// --timeout --python --pymalloc, into `options` / `cli`.
void addCheckOptions(CLI::App& app, RunOptions& options, CheckCliOptions& cli,
                     double defaultTimeout);
// --junit FILE, --plot FILE.svg, -j/--jobs.
void addBatchOptions(CLI::App& app, CheckCliOptions& cli);

// Applies what needs more than CLI11: --max-growth's size, --no-hooks; checks that the
// report files can be written (before anything runs, so no result is lost to a typo).
// Throws UsageError.
void applyCheckOptions(RunOptions& options, const CheckCliOptions& cli);

// Writes --junit / --plot for these results. Returns false (after one error line) if a
// file could not be written.
bool writeReportFiles(const ScanReport& scan, const CheckCliOptions& cli, const OutputOptions& output);

// Prints a finished batch (table or JSON) and writes its files; returns the exit code.
int finishBatch(const ScanReport& scan, const CheckCliOptions& cli, const OutputOptions& output);

}  // namespace psleak::cli
