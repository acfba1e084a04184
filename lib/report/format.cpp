#include "report/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace psleak {
namespace {

// The metrics of the run table, in the seed design's order. The JSON has them all.
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

// One line per frame, at most `maxFrames` of them, then how many were left out.
template <typename Describe>
void appendFrames(std::string& text, const std::vector<TraceFrame>& frames, std::size_t maxFrames,
                  const char* what, Describe describe) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i == maxFrames) {
      text += fmt::format("      ... {} more {}\n", frames.size() - maxFrames, what);
      return;
    }
    text += "      " + describe(frames[i]) + "\n";
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
    appendFrames(text, site.frames, maxFrames, "frames", [](const TraceFrame& frame) {
      const std::string object = frame.object.substr(frame.object.rfind('/') + 1);
      return frame.file.empty() ? fmt::format("{} ({})", frame.function, object)
                                : fmt::format("{} at {}:{} ({})", frame.function, frame.file, frame.line, object);
    });
    appendFrames(text, site.pythonFrames, maxFrames, "Python frames", [](const TraceFrame& frame) {
      return fmt::format("py {} at {}:{}", frame.function, frame.file, frame.line);
    });
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

std::string formatScanTable(const ScanReport& scan, bool rawBytes) {
  std::string text = fmt::format("{:<40} {:<8} {:<11} {:>12} {:>10}\n", "TARGET", "VERDICT", "KIND",
                                 "GROWTH/CALL", "TIME");
  for (const Report& result : scan.results) text += formatScanRow(result, rawBytes) + "\n";
  const int clean = scan.count(VerdictStatus::Clean);
  const int leaks = scan.count(VerdictStatus::Leak);
  const int errors = scan.count(VerdictStatus::Error);
  // Why each problem is one: the verdict's own line.
  for (const Report& result : scan.results) {
    if (result.verdict.status == VerdictStatus::Clean) continue;
    text += fmt::format("{}: {}\n", targetName(result), result.verdict.message);
  }
  if (!scan.skipped.empty()) {
    text += "Skipped:\n";
    for (const SkippedCallable& s : scan.skipped) text += fmt::format("  {:<38} {}\n", s.target, s.reason);
  }
  text += fmt::format("{} target{}: {} clean, {} leak{}, {} error{}; {} skipped{} ({:.1f} s)\n",
                      scan.results.size(), scan.results.size() == 1 ? "" : "s", clean, leaks,
                      leaks == 1 ? "" : "s", errors, errors == 1 ? "" : "s", scan.skipped.size(),
                      !scan.interrupted ? "" : scan.terminated ? "; TERMINATED" : "; INTERRUPTED",
                      scan.durationSeconds);
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
