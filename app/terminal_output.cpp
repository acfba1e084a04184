#include "terminal_output.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "psleak/platform/allocation_counters.h"
#include "core/errors.h"
#include "psleak/platform/fork_watch.h"
#include "psleak/platform/report_output.h"
#include "report/format.h"
#include "report/json_report.h"
#include "progress_line.h"

namespace psleak::cli {

namespace {

std::string gStdoutError;

}  // namespace

bool runningInCi() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::strcmp(ci, "0") != 0 && std::strcmp(ci, "false") != 0;
}

bool useColor(const OutputOptions& options) {
  if (options.color == "always") return true;
  if (options.color == "never") return false;
  const char* noColor = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return ::isatty(platform::reportFd()) && !(noColor && *noColor) && !runningInCi() &&
         !(term && std::strcmp(term, "dumb") == 0);
}

std::string colorize(const std::string& line, bool color) {
  if (!color) return line;
  static const std::pair<const char*, const char*> kWords[] = {
      {"LEAK", "\033[1;31m"},    {"CRASH", "\033[1;31m"},   {"ERROR", "\033[1;31m"},
      {"TIMEOUT", "\033[1;33m"}, {"WARNING", "\033[33m"},   {"INTERRUPTED", "\033[1;33m"},
      {"TERMINATED", "\033[1;33m"},
      {"OK", "\033[1;32m"},      {"clean", "\033[32m"},
  };
  for (const auto& [word, code] : kWords) {
    // A whole word only: "OK:" at the start, or " LEAK " in a scan row (not "clean" inside
    // a target's name, which comes first on the row).
    for (std::size_t at = line.find(word); at != std::string::npos; at = line.find(word, at + 1)) {
      const std::size_t end = at + std::strlen(word);
      const bool startsWord = at == 0 || line[at - 1] == ' ';
      const bool endsWord = end == line.size() || line[end] == ' ' || line[end] == ':';
      if (startsWord && endsWord) return line.substr(0, at) + code + word + "\033[0m" + line.substr(end);
    }
  }
  return line;
}

void writeStdout(const std::string& text) {
  if (text.empty() || !gStdoutError.empty()) return;
  std::string error;
  if (!platform::writeReport(text, error)) gStdoutError = error;
}

const std::string& stdoutError() { return gStdoutError; }

void printColored(const std::string& text, bool color) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    out += colorize(line, color) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  writeStdout(out);
}

void setUpLogging(int verbosity) {
  auto logger = spdlog::stderr_logger_st("psleak");
  logger->set_pattern("psleak: %^%l%$: %v");
  logger->set_level(verbosity >= 2 ? spdlog::level::debug
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void printJson(const nlohmann::ordered_json& document) { writeStdout(jsonText(document, 2) + "\n"); }

void checkAllocationHooks() {
  const std::string problem = platform::verifyAllocationCounting();
  if (problem.empty()) return;
  std::fprintf(stderr,
               "psleak: warning: %s; measuring as with --no-hooks (allocator statistics "
               "and /proc)\n",
               problem.c_str());
}

void printReport(const Report& report, const OutputOptions& options) {
  if (options.json) {
    printJson(toJson(report));
    return;
  }
  clearProgressLine();
  const bool color = useColor(options);
  auto printLines = [&](const std::string& text) { printColored(text, color); };
  if (report.verdict.kind == "interrupted" || report.verdict.kind == "terminated") {
    // Ctrl-C: what was measured is printed above; say where it stopped.
    printLines(formatFindings(report.findings));
    printLines((report.verdict.kind == "terminated" ? "TERMINATED: " : "INTERRUPTED: ") +
               report.verdict.message);
    return;
  }
  if (report.verdict.status == VerdictStatus::Error) {
    std::fprintf(stderr, "psleak: error: %s\n", report.verdict.message.c_str());
    if (!report.verdict.details.empty()) std::fputs(report.verdict.details.c_str(), stderr);
    std::fputs(formatFindings(report.findings).c_str(), stderr);
    std::fflush(stderr);
    return;
  }
  if (report.trace) writeStdout(formatTrace(*report.trace, options.rawBytes));
  printLines(formatFindings(report.findings));
  // A leak was named above, with its items, by its finding.
  if (report.verdict.status == VerdictStatus::Clean) printLines(formatVerdictLine(report.verdict));
}

void printUsageError(const std::string& command, const std::string& message, bool json) {
  if (json) {
    Report report;
    report.command = command;
    report.verdict = errorVerdict("usage", message);
    printJson(toJson(report));
  } else {
    std::fprintf(stderr, "psleak: error: %s\n", message.c_str());
  }
}

void exitNow(int code) {
  std::fflush(stdout);  // what target code printf'ed (to stderr, see report_output.h)
  if (!gStdoutError.empty()) {
    std::fprintf(stderr, "psleak: error: cannot write the report to stdout: %s\n", gStdoutError.c_str());
    code = static_cast<int>(ExitCode::Internal);
  }
  std::fflush(stderr);
  spdlog::shutdown();
  platform::exitProcess(code);
}

}  // namespace psleak::cli
