#pragma once
// The result of checking several targets (`psleak scan`, `psleak run --targets`): one
// Report per target, each checked in its own process, plus the callables a scan found
// but could not call.

#include <string>
#include <vector>

#include "report/report.h"

namespace psleak {

struct SkippedCallable {
  std::string target;  // "zlib:crc32"
  std::string reason;  // "needs arguments (data, value=0)", "class", "signature unknown"
  // The kind of reason, for counting: "arguments", "class", "not_function", "imported",
  // "signature_unknown", "raised" (getting the attribute raised); empty if unknown.
  std::string kind;
};

struct ScanReport {
  std::string command = "scan";            // "scan" or "run" (--targets)
  std::vector<std::string> modules;        // what the scan was asked for
  std::vector<Report> results;             // one per target checked, in the order found
  std::vector<SkippedCallable> skipped;
  bool interrupted = false;  // Ctrl-C or SIGTERM: targets not yet started were left out
  bool terminated = false;   // ... and it was SIGTERM
  // A --junit/--plot file that could not be written: "--junit FILE: reason".
  std::string outputError;
  double durationSeconds = 0.0;

  // 4 if a report file could not be written; 130 if interrupted (143 by SIGTERM); 2 if
  // nothing was checked; else 1 if any target leaks; else 5 if any crashed or hung; else
  // the code of the first error (3 target, 2 usage, 4 internal); else 0.
  int exitCode() const;

  // How many results have this verdict status.
  int count(VerdictStatus status) const;
};

// `psleak scan --list`: what a scan would check, without calling anything.
struct ScanListing {
  std::vector<std::string> modules;       // what the scan was asked for
  std::vector<std::string> targets;       // "zlib:adler32", in the order a scan checks them
  std::vector<SkippedCallable> skipped;
  std::vector<Report> moduleErrors;       // a module that could not be imported or listed
  bool interrupted = false;               // Ctrl-C: the modules after it were not listed

  // 130 if interrupted; else the code of the first module error (3); else 2 if there is
  // nothing to check; else 0.
  int exitCode() const;
};

}  // namespace psleak
