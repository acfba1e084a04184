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
// report files can be written (before anything runs, so no result is lost to a typo) and
// makes their paths absolute (so that a target that changes directory does not move
// them). Throws UsageError.
void applyCheckOptions(RunOptions& options, CheckCliOptions& cli);

// Writes --junit / --plot for these results. Returns why a file could not be written
// ("--junit FILE: Permission denied"), or an empty string.
std::string writeReportFiles(const ScanReport& scan, const CheckCliOptions& cli,
                             const OutputOptions& output);

// Writes a finished batch's files, then prints it (table or JSON); returns the exit code.
// A file that could not be written makes it 4, in the JSON (`output_error`) as in the
// process, with one error line on stderr without --json.
int finishBatch(ScanReport scan, const CheckCliOptions& cli, const OutputOptions& output);

}  // namespace psleak::cli
