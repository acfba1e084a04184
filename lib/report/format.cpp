#include "report/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>
#include <vector>

namespace psleak {
namespace {

// The metrics of the run table, in the original package's order. The JSON has them all.
// With the hooks, allocs and alloc (their bytes) are what decides: shown last, after the
// allocator's and the kernel's view.
constexpr std::array<Metric, 6> kTableMetrics = {Metric::HeapUsed, Metric::MmapUsed, Metric::Uss,
                                                 Metric::Rss,      Metric::Allocs,   Metric::AllocBytes};

}  // namespace

std::string formatBytes(double bytes, bool rawBytes, bool signed_) {
  const char* sign = (signed_ && bytes >= 0) ? "+" : (bytes < 0 ? "-" : "");
  const double magnitude = std::fabs(bytes);
  if (rawBytes) {
    return fmt::format("{}{}", sign, static_cast<std::int64_t>(std::llround(magnitude)));
  }
  static constexpr std::array<const char*, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  double scaled = magnitude;
  while (scaled >= 1024.0 && unit + 1 < kUnits.size()) {
    scaled /= 1024.0;
    ++unit;
  }
  if (unit == 0) {
    // Whole bytes, but keep a fraction for per-call averages below 10 bytes.
    if (scaled != std::floor(scaled) && scaled < 10) return fmt::format("{}{:.1f} B", sign, scaled);
    return fmt::format("{}{} B", sign, static_cast<std::int64_t>(std::llround(scaled)));
  }
  return fmt::format("{}{:.1f} {}", sign, scaled, kUnits[unit]);
}

std::string formatMetric(Metric m, double value, bool rawBytes) {
  if (!isCountMetric(m)) return formatBytes(value, rawBytes);
  const char* sign = value >= 0 ? "+" : "";
  if (value == std::floor(value)) return fmt::format("{}{}", sign, static_cast<std::int64_t>(value));
  return fmt::format("{}{:.2f}", sign, value);
}

std::string formatRatePerCall(Metric m, double perCall, bool rawBytes) {
  const double magnitude = std::fabs(perCall);
  if (magnitude > 0.0 && magnitude < 0.995) {
    if (isCountMetric(m)) {
      return fmt::format("{}1 block per {} calls", perCall < 0 ? "-" : "+",
                         static_cast<std::int64_t>(std::llround(1.0 / magnitude)));
    }
    if (!rawBytes) return fmt::format("{}{:.2g} B/call", perCall < 0 ? "-" : "+", magnitude);
  }
  return formatMetric(m, perCall, rawBytes) + "/call";
}

double bytesPerCall(const RunDelta& run) {
  if (run.growth.has(Metric::HeapUsed) || run.growth.has(Metric::MmapUsed)) {
    return run.perCall(Metric::HeapUsed) + run.perCall(Metric::MmapUsed);
  }
  return run.perCall(Metric::Uss);
}

std::string formatRunLine(const RunDelta& run, const TextOptions& options) {
  std::string line = fmt::format("Run #{:>2}: ", run.run);
  const int width = options.rawBytes ? 9 : 11;
  for (Metric m : kTableMetrics) {
    if (!run.growth.has(m)) continue;
    const std::string value = formatMetric(m, static_cast<double>(run.growth.get(m)), options.rawBytes);
    line += fmt::format("{}={:<{}} | ", metricLabel(m), value, isCountMetric(m) ? 6 : width);
  }
  line += fmt::format("(calls={:>5}, avg/call={})", run.calls,
                      formatBytes(bytesPerCall(run), options.rawBytes));
  return line;
}

std::string formatFindings(const std::vector<Finding>& findings) {
  std::string text;
  for (Severity severity : {Severity::Leak, Severity::Warning}) {
    for (const Finding& finding : findings) {
      if (finding.severity != severity) continue;
      text += fmt::format("{}: {}\n", severity == Severity::Leak ? "LEAK" : "WARNING",
                          finding.message);
      for (const std::string& item : finding.items) text += "    " + item + "\n";
    }
  }
  return text;
}

namespace {

std::string fileName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The lines of a native call stack, innermost first. A frame whose name is not the
// function's own (no debug info: only the nearest exported symbol, or none) would name
// some other function, plausibly and wrongly: such frames are folded, a run of them in
// one object into one line, "3 frames in libpython3.11.so.1.0 (no debug info)".
// Each line with how many frames it stands for.
std::vector<std::pair<std::string, std::size_t>> nativeFrameLines(const std::vector<TraceFrame>& frames) {
  std::vector<std::pair<std::string, std::size_t>> lines;
  for (std::size_t i = 0; i < frames.size();) {
    const TraceFrame& frame = frames[i];
    const std::string object = fileName(frame.object);
    if (frame.hasExactName()) {
      lines.emplace_back(frame.file.empty() ? fmt::format("{} ({})", frame.function, object)
                                            : fmt::format("{} at {}:{} ({})", frame.function,
                                                          frame.file, frame.line, object),
                         1);
      ++i;
      continue;
    }
    std::size_t end = i + 1;
    while (end < frames.size() && !frames[end].hasExactName() && frames[end].object == frame.object) ++end;
    const std::size_t count = end - i;
    lines.emplace_back(fmt::format("{} frame{} in {} (no debug info)", count, count == 1 ? "" : "s",
                                   object.empty() ? "an unknown object" : object),
                       count);
    i = end;
  }
  return lines;
}

// The lines, at most `maxLines` of them, then how many frames were left out.
void appendFrameLines(std::string& text, const std::vector<std::pair<std::string, std::size_t>>& lines,
                      std::size_t maxLines, const char* what) {
  std::size_t left = 0;
  for (const auto& line : lines) left += line.second;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i == maxLines) {
      text += fmt::format("      ... {} more {}\n", left, what);
      return;
    }
    text += "      " + lines[i].first + "\n";
    left -= lines[i].second;
  }
}

}  // namespace

std::string formatTrace(const TraceReport& trace, bool rawBytes, std::size_t maxFrames) {
  std::string text = fmt::format(
      "Allocations still live after {} traced calls: {} blocks, {}; top {} call stack{}:\n",
      trace.calls, trace.liveCount, formatBytes(static_cast<double>(trace.liveBytes), rawBytes, false),
      trace.sites.size(), trace.sites.size() == 1 ? "" : "s");
  int rank = 0;
  for (const TraceSite& site : trace.sites) {
    text += fmt::format("  #{} {} blocks, {} ({:.2f} blocks/call)\n", ++rank, site.count,
                        formatBytes(static_cast<double>(site.bytes), rawBytes, false),
                        static_cast<double>(site.count) / static_cast<double>(std::max<std::int64_t>(1, trace.calls)));
    appendFrameLines(text, nativeFrameLines(site.frames), maxFrames, "frames");
    std::vector<std::pair<std::string, std::size_t>> pythonLines;
    for (const TraceFrame& frame : site.pythonFrames) {
      pythonLines.emplace_back(fmt::format("py {} at {}:{}", frame.function, frame.file, frame.line), 1);
    }
    appendFrameLines(text, pythonLines, maxFrames, "Python frames");
  }
  if (trace.dropped > 0) {
    text += fmt::format("  ({} allocations were not recorded: the trace table was full)\n", trace.dropped);
  }
  return text;
}

namespace {

std::string verdictWord(const Verdict& verdict) {
  switch (verdict.status) {
    case VerdictStatus::Clean:
      return "clean";
    case VerdictStatus::Leak:
      return "LEAK";
    case VerdictStatus::Error:
      break;
  }
  if (verdict.kind == "crash") return "CRASH";
  if (verdict.kind == "timeout") return "TIMEOUT";
  if (verdict.kind == "interrupted" || verdict.kind == "terminated") return "stopped";
  return "ERROR";
}

}  // namespace

std::string targetName(const Report& result) {
  if (!result.target) return "?";
  return result.target->spec.empty() ? "-e " + result.target->expression : result.target->spec;
}

std::string formatScanRow(const Report& result, bool rawBytes) {
  std::string growth = "-";
  const auto& kinds = result.verdict.kinds;
  const bool memoryLeak = std::find(kinds.begin(), kinds.end(), "memory") != kinds.end();
  if (memoryLeak && !result.runs.empty()) {
    growth = formatBytes(bytesPerCall(result.runs.back()), rawBytes);
  }
  const std::string kind = result.verdict.kind.empty() ? "-" : result.verdict.kind;
  return fmt::format("{:<40} {:<8} {:<11} {:>12} {:>8.2f} s", targetName(result),
                     verdictWord(result.verdict), kind, growth, result.durationSeconds);
}

namespace {

// How a count of skipped callables of one kind reads: "52 need arguments", "1 class".
std::string skippedKindPhrase(const std::string& kind, std::size_t n) {
  const bool one = n == 1;
  if (kind == "arguments") return fmt::format("{} need{} arguments", n, one ? "s" : "");
  if (kind == "class") return fmt::format("{} class{}", n, one ? "" : "es");
  if (kind == "not_function") return fmt::format("{} not a function", n);
  if (kind == "imported") return fmt::format("{} imported from other modules", n);
  if (kind == "signature_unknown") return fmt::format("{} with no known signature", n);
  if (kind == "raised") return fmt::format("{} raised when looked up", n);
  return fmt::format("{} other", n);
}

}  // namespace

std::string formatSkipped(const std::vector<SkippedCallable>& skipped, const TextOptions& options) {
  if (skipped.empty()) return {};
  if (options.listSkipped) {
    std::string text = "Skipped:\n";
    for (const SkippedCallable& s : skipped) text += fmt::format("  {:<38} {}\n", s.target, s.reason);
    return text;
  }
  // The kinds, most frequent first (the first seen first among equals).
  std::vector<std::pair<std::string, std::size_t>> kinds;
  for (const SkippedCallable& s : skipped) {
    auto it = std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == s.kind; });
    if (it == kinds.end()) {
      kinds.emplace_back(s.kind, 1);
    } else {
      ++it->second;
    }
  }
  std::stable_sort(kinds.begin(), kinds.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> phrases;
  for (const auto& [kind, n] : kinds) phrases.push_back(skippedKindPhrase(kind, n));
  return fmt::format("{} callable{} skipped ({}): --show-skipped lists them\n", skipped.size(),
                     skipped.size() == 1 ? "" : "s", fmt::join(phrases, ", "));
}

std::string formatScanTable(const ScanReport& scan, const TextOptions& options) {
  std::string text = fmt::format("{:<40} {:<8} {:<11} {:>12} {:>10}\n", "TARGET", "VERDICT", "KIND",
                                 "GROWTH/CALL", "TIME");
  for (const Report& result : scan.results) text += formatScanRow(result, options.rawBytes) + "\n";
  const int clean = scan.count(VerdictStatus::Clean);
  const int leaks = scan.count(VerdictStatus::Leak);
  const int errors = scan.count(VerdictStatus::Error);
  // Why each problem is one: the verdict's own line.
  for (const Report& result : scan.results) {
    if (result.verdict.status == VerdictStatus::Clean) continue;
    text += fmt::format("{}: {}\n", targetName(result), result.verdict.message);
  }
  text += formatSkipped(scan.skipped, options);
  text += fmt::format("{} target{}: {} clean, {} leak{}, {} error{}; {} skipped{} ({:.1f} s)\n",
                      scan.results.size(), scan.results.size() == 1 ? "" : "s", clean, leaks,
                      leaks == 1 ? "" : "s", errors, errors == 1 ? "" : "s", scan.skipped.size(),
                      !scan.interrupted ? "" : scan.terminated ? "; TERMINATED" : "; INTERRUPTED",
                      scan.durationSeconds);
  return text;
}

std::string formatScanListing(const ScanListing& listing) {
  std::string text;
  for (const std::string& target : listing.targets) text += target + "\n";
  return text;
}

std::string formatVerdictLine(const Verdict& verdict) {
  switch (verdict.status) {
    case VerdictStatus::Clean:
      return "OK: " + verdict.message;
    case VerdictStatus::Leak:
      return "LEAK: " + verdict.message;
    case VerdictStatus::Error:
      break;
  }
  return "ERROR: " + verdict.message;
}

}  // namespace psleak
