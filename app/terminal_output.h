#pragma once
// What the CLI prints and how it leaves: stdout for results, stderr for logs and errors.
// Results go through psleak's own copy of stdout (platform/report_output.h), and every
// write is checked: a report that could not be written ends psleak with exit code 4.

#include <string>

#include <nlohmann/json.hpp>

#include "report/report.h"
#include "runner/memory_check.h"

namespace psleak::cli {

struct OutputOptions {
  bool json = false;
  bool rawBytes = false;
  int verbosity = 0;          // -v count
  std::string color = "auto";  // --color auto|always|never
};

// Whether CI is set (to anything but "", "0" or "false"): no colour, no progress line.
bool runningInCi();

// Colour on stdout: --color always; never with --color never; with auto, only on a
// terminal and when neither NO_COLOR nor CI is set.
bool useColor(const OutputOptions& options);

// The line with its verdict word coloured (LEAK/CRASH/ERROR red, WARNING/TIMEOUT/
// INTERRUPTED yellow, OK/clean green) when `color`; else unchanged.
std::string colorize(const std::string& line, bool color);

// Writes `text` to psleak's stdout. A failure is remembered (see exitNow) and later
// writes are skipped.
void writeStdout(const std::string& text);
// Why a write to stdout failed ("No space left on device"); empty if none did.
const std::string& stdoutError();

// Prints `text` to stdout line by line, each through colorize.
void printColored(const std::string& text, bool color);

// spdlog to stderr, at warning level unless -v (info) or -vv (debug).
void setUpLogging(int verbosity);

// Prints the verdict of a finished report (the run lines were printed live) or, with
// --json, the whole document. Errors go to stderr as one line (plus traceback).
void printReport(const Report& report, const OutputOptions& options);

// One line on stderr, or with --json an error document on stdout.
void printUsageError(const std::string& command, const std::string& message, bool json);

void printJson(const nlohmann::ordered_json& document);

// The allocator hooks' start-up self-test (platform::verifyAllocationCounting): when
// they cannot count (under valgrind), one warning line on stderr; psleak then measures
// as with --no-hooks.
void checkAllocationHooks();

// Flushes and ends the process at once: a target may have left threads running that
// would race process teardown (static destructors) or hang Python's finalization. If a
// write to stdout failed, says so in one line on stderr and exits 4 instead of `code`.
[[noreturn]] void exitNow(int code);

}  // namespace psleak::cli
