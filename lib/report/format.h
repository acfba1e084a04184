#pragma once
// Text pieces shared by the renderers: byte sizes, run lines, the verdict line.

#include <cstdint>
#include <string>

#include "detector/metrics.h"
#include "report/report.h"
#include "report/scan_report.h"

namespace psleak {

struct TextOptions {
  bool rawBytes = false;     // --bytes: "1945" instead of "1.9 KiB"
  // The callables a scan skipped one by one, each with why (the table: --show-skipped;
  // JUnit: --junit-skipped); otherwise the table counts them in one line and JUnit
  // leaves them out.
  bool listSkipped = false;
};

// "+1.9 KiB", "-512 B", "+0 B"; with rawBytes "+1945". `signed_` adds '+' to positives.
std::string formatBytes(double bytes, bool rawBytes, bool signed_ = true);

// A metric's value: bytes as formatBytes, block counts as "+3" / "+0.5".
std::string formatMetric(Metric m, double value, bool rawBytes);
// A growth rate as a verdict states it: "+1.0 KiB/call", "+1/call", and for rates below
// one unit a call "1 block per 250 calls" or "+0.25 B/call" (never a rounded "+0.0").
std::string formatRatePerCall(Metric m, double perCall, bool rawBytes);

// The native bytes a run gained per call: heap + mmap, or USS where the allocator
// has no statistics.
double bytesPerCall(const RunDelta& run);

// "Run # 3: heap=+760.1 KiB | mmap=+0 B | uss=+764 KiB | rss=+800 KiB | (calls=  400, avg/call=+1.9 KiB)"
std::string formatRunLine(const RunDelta& run, const TextOptions& options);

// Each finding as "LEAK: <message>" / "WARNING: <message>" followed by its items,
// indented, one per line; leaks first.
std::string formatFindings(const std::vector<Finding>& findings);

// The --trace sites: "Live allocations after N traced calls, by call stack:" then one
// block per site, frames innermost first (at most `maxFrames` lines each). Native frames
// without an exact name (TraceFrame::hasExactName) are folded, a run of them in one
// object into one line: "3 frames in libpython3.11.so.1.0 (no debug info)".
std::string formatTrace(const TraceReport& trace, bool rawBytes, std::size_t maxFrames = 8);

// "mod:func", or "-e STMT" for an expression.
std::string targetName(const Report& result);

// One row of the scan table, for a target whose check just ended (also the live line).
std::string formatScanRow(const Report& result, bool rawBytes);
// The scan table: a header, one row per target checked, why each that is not clean is
// not, the skipped callables (formatSkipped), and a summary line ("12 targets: 10 clean,
// 1 leak, 1 error; 8 skipped").
std::string formatScanTable(const ScanReport& scan, const TextOptions& options);

// The callables a scan skipped. By default one line counting them by why: "87 callables
// skipped (52 need arguments, 20 classes, 15 with no known signature): --show-skipped
// lists them"; with options.listSkipped "Skipped:" and a line per callable with why.
// Empty when none was skipped.
std::string formatSkipped(const std::vector<SkippedCallable>& skipped, const TextOptions& options);

// `scan --list`: the targets a scan would check, one per line (a valid --targets file).
std::string formatScanListing(const ScanListing& listing);

// "LEAK: memory kept increasing after 10 runs (heap +1.9 KiB/call)" / "OK: no leak (...)"
std::string formatVerdictLine(const Verdict& verdict);

}  // namespace psleak
