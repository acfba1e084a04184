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
};

struct ScanReport {
  std::string command = "scan";            // "scan" or "run" (--targets)
  std::vector<std::string> modules;        // what the scan was asked for
  std::vector<Report> results;             // one per target checked, in the order found
  std::vector<SkippedCallable> skipped;
  double durationSeconds = 0.0;

  // 0 when every target is clean; else the most severe code of the results
  // (internal > crashed/timed out > target error > leak).
  int exitCode() const;
};

}  // namespace psleak
