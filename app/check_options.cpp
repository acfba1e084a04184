#include "check_options.h"
#include "cli_commands.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "core/option_parsing.h"
#include "psleak/platform/allocation_counters.h"
#include "report/format.h"
#include "report/json_report.h"
#include "report/junit_report.h"
#include "report/svg_plot.h"

namespace psleak::cli {
namespace {

// Checks that `path` can be written and makes it absolute.
void prepareReportFile(std::string& path, const char* option) {
  if (path.empty()) return;
  std::ofstream file(path, std::ios::app);
  if (!file) throw UsageError(std::string(option) + " " + path + ": cannot write the file");
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (!error) path = absolute.string();
}

// Why `content` could not be written to `path`, or an empty string.
std::string writeFile(const std::string& path, const std::string& content, const char* option) {
  errno = 0;
  std::ofstream file(path, std::ios::trunc);
  if (file) file << content;
  if (file) file.flush();
  if (file) file.close();
  if (file) return {};
  const int error = errno;
  return std::string(option) + " " + path + ": cannot write the file" +
         (error ? std::string(" (") + std::strerror(error) + ")" : std::string());
}

}  // namespace

void addCheckOptions(CLI::App& app, RunOptions& options, CheckCliOptions& cli,
                     double defaultTimeout) {
  addIntegerOption(app, "--warmup", "--warmup", options.check.warmup, kWarmupRange,
                   "Calls before the first run");
  addIntegerOption(app, "--calls", "--calls", options.check.calls, kCallsRange,
                   "Calls in the first run; each later run adds half as many");
  addIntegerOption(app, "--retries", "--retries", options.check.detector.retries, kRetriesRange,
                   "Runs after which growth that never stops is a leak");
  app.add_option("--tolerance", options.toleranceTexts,
                 "Growth in bytes that counts as none: BYTES, or METRIC=BYTES (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--checks", options.checkTexts,
                 "Only these checks: memory,fd,thread,pythread,gc,refcount (default: all)")
      ->allow_extra_args(false);
  app.add_option("--skip", options.skipTexts, "Leave out these checks (same names as --checks)")
      ->allow_extra_args(false);
  app.add_option("--strict", options.strictTexts,
                 "Make these checks' warnings failures: gc (objects left in collectable "
                 "reference cycles fail the check, exit 1)")
      ->allow_extra_args(false);
  app.add_option("--max-growth", cli.maxGrowthText,
                 "Stop with a leak verdict once RSS, USS or the heap grew this much "
                 "(BYTES, e.g. 512M; 0: no limit)")
      ->default_str("1G");
  cli.timeoutSeconds = defaultTimeout;
  app.add_option_function<std::string>(
         "--timeout",
         [&cli](const std::string& text) {
           try {
             cli.timeoutSeconds = parseSeconds(text, "--timeout");
           } catch (const UsageError& e) {
             throw CLI::ValidationError(e.what());  // taken by main as a usage error
           }
         },
         "Seconds a target's whole check may take (0: no limit; at most 604800, a week); "
         "a hang is reported")
      ->type_name("SECONDS")
      ->default_str(fmt::format("{:g}", defaultTimeout));
  app.add_flag("--no-hooks", cli.noHooks,
               "Measure with allocator statistics and /proc alone, without psleak's exact "
               "allocation counters (as PSLEAK_NO_HOOKS=1 does)");
  addInterpreterOptions(app, options.interpreter);
}

void addBatchOptions(CLI::App& app, CheckCliOptions& cli) {
  addIntegerOption(app, "-j,--jobs", "--jobs", cli.jobs, kJobsRange,
                   "Targets checked at once, each in its own process");
  app.add_option("--junit", cli.junitPath, "Also write a JUnit XML report to FILE");
  app.add_option("--plot", cli.plotPath, "Also write an SVG plot of each metric to FILE.svg");
}

void applyCheckOptions(RunOptions& options, CheckCliOptions& cli) {
  if (!cli.maxGrowthText.empty()) {
    options.check.maxGrowth = parseByteCount(cli.maxGrowthText, "--max-growth");
  }
  // Off before any interpreter starts, so that no sample mixes counted and uncounted blocks.
  if (cli.noHooks) platform::stopAllocationCounting();
  prepareReportFile(cli.junitPath, "--junit");
  prepareReportFile(cli.plotPath, "--plot");
}

std::string writeReportFiles(const ScanReport& scan, const CheckCliOptions& cli,
                             const OutputOptions& output) {
  std::string error;
  if (!cli.junitPath.empty()) {
    error = writeFile(cli.junitPath, toJUnitXml(scan, TextOptions{output.rawBytes, cli.junitSkipped}),
                      "--junit");
  }
  if (!cli.plotPath.empty()) {
    const std::string plotError = writeFile(cli.plotPath, toSvgPlot(scan), "--plot");
    if (error.empty()) error = plotError;
  }
  return error;
}

int finishBatch(ScanReport scan, const CheckCliOptions& cli, const OutputOptions& output) {
  scan.outputError = writeReportFiles(scan, cli, output);
  if (output.json) {
    printJson(toJson(scan));
  } else {
    printColored(formatScanTable(scan, TextOptions{output.rawBytes, cli.showSkipped}),
                 useColor(output));
    if (!scan.outputError.empty()) {
      std::fprintf(stderr, "psleak: error: %s\n", scan.outputError.c_str());
    }
  }
  return scan.exitCode();
}

}  // namespace psleak::cli
