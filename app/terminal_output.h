#pragma once
// What the CLI prints and how it leaves: stdout for results, stderr for logs and errors.

#include <string>

#include <nlohmann/json.hpp>

#include "report/report.h"

namespace psleak::cli {

struct OutputOptions {
  bool json = false;
  bool rawBytes = false;
  int verbosity = 0;  // -v count
};

// spdlog to stderr, at warning level unless -v (info) or -vv (debug).
void setUpLogging(int verbosity);

// Prints the verdict of a finished report (the run lines were printed live) or, with
// --json, the whole document. Errors go to stderr as one line (plus traceback).
void printReport(const Report& report, const OutputOptions& options);

// One line on stderr, or with --json an error document on stdout.
void printUsageError(const std::string& command, const std::string& message, bool json);

void printJson(const nlohmann::ordered_json& document);

// Flushes and ends the process at once: a target may have left threads running that
// would race process teardown (static destructors) or hang Python's finalization.
[[noreturn]] void exitNow(int code);

}  // namespace psleak::cli
