#pragma once
// `psleak scan MODULE...` and `psleak run --targets FILE`: many targets, each checked in
// a child process of its own (never two checks in one process), up to `jobs` at a time.

#include <functional>
#include <string>
#include <vector>

#include "commands/run_command.h"
#include "report/scan_report.h"

namespace psleak {

struct BatchOptions {
  int jobs = 1;                 // -j: checks running at once
  double timeoutSeconds = 0;    // per target; 0: none
};

// Called as each target's check ends (in the order they end).
using ResultCallback = std::function<void(const Report&)>;

// Checks every target of `targets` (each a complete RunOptions) in its own process.
// Ctrl-C starts no new check, passes the interrupt on to those running, and the report
// ends there. Never throws for what a target does.
ScanReport runBatch(const std::vector<RunOptions>& targets, const BatchOptions& batch,
                    const ResultCallback& onResult);

struct ScanOptions {
  std::vector<std::string> modules;
  std::vector<std::string> include;  // globs over "module:name" or "name"; empty: all
  std::vector<std::string> exclude;
  RunOptions base;                   // settings every target is checked with
  BatchOptions batch;
};

// What a scan would check, calling nothing (`scan --list`): each module's callables,
// listed in a child process (the parent never imports target code), filtered by
// --include/--exclude. A module that cannot be imported is a report with a "target"
// error, passed to `onModuleError` as well.
ScanListing listScan(const ScanOptions& options, const ResultCallback& onModuleError);

// listScan, then checks the targets with runBatch. A module that cannot be imported is a
// result with a "target" error.
// `onPlanned`, if set, is told how many targets will be checked once they are listed.
ScanReport runScan(const ScanOptions& options, const ResultCallback& onResult,
                   const std::function<void(std::size_t targets)>& onPlanned = {});

// Reads --targets FILE: a JSON array of {"target"|"expr", "args", "kwargs", "setup",
// "expect_exception"} objects, or one target per line written as `psleak run` arguments
// (MODULE:ATTR --args EXPR ...; '#' starts a comment). Each gets `base`'s settings.
// Throws UsageError naming the file and line.
std::vector<RunOptions> readTargetsFile(const std::string& path, const RunOptions& base);

// Splits a line as a POSIX shell would (quotes and backslashes; no expansions).
// Throws UsageError on an unterminated quote.
std::vector<std::string> splitShellWords(const std::string& line);

}  // namespace psleak
