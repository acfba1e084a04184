#include "terminal_output.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "report/format.h"
#include "report/json_report.h"

namespace psleak::cli {

void setUpLogging(int verbosity) {
  auto logger = spdlog::stderr_logger_st("psleak");
  logger->set_pattern("psleak: %^%l%$: %v");
  logger->set_level(verbosity >= 2 ? spdlog::level::debug
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void printJson(const nlohmann::ordered_json& document) {
  std::fputs(document.dump(2).c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void printReport(const Report& report, const OutputOptions& options) {
  if (options.json) {
    printJson(toJson(report));
    return;
  }
  if (report.verdict.kind == "interrupted") {
    // Ctrl-C: what was measured is printed above; say where it stopped.
    std::fputs(formatFindings(report.findings).c_str(), stdout);
    std::printf("INTERRUPTED: %s\n", report.verdict.message.c_str());
    std::fflush(stdout);
    return;
  }
  if (report.verdict.status == VerdictStatus::Error) {
    std::fprintf(stderr, "psleak: error: %s\n", report.verdict.message.c_str());
    if (!report.verdict.details.empty()) std::fputs(report.verdict.details.c_str(), stderr);
    std::fputs(formatFindings(report.findings).c_str(), stderr);
    std::fflush(stderr);
    return;
  }
  if (report.trace) std::fputs(formatTrace(*report.trace, options.rawBytes).c_str(), stdout);
  std::fputs(formatFindings(report.findings).c_str(), stdout);
  // A leak was named above, with its items, by its finding.
  if (report.verdict.status == VerdictStatus::Clean) {
    std::printf("%s\n", formatVerdictLine(report.verdict).c_str());
  }
  std::fflush(stdout);
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
  std::fflush(stdout);
  std::fflush(stderr);
  spdlog::shutdown();
  ::_exit(code);
}

}  // namespace psleak::cli
