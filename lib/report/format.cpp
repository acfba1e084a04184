#include "report/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace psleak {
namespace {

// The metrics of the run table, in the seed design's order. The JSON has them all.
constexpr std::array<Metric, 5> kTableMetrics = {Metric::HeapUsed, Metric::MmapUsed, Metric::Uss,
                                                 Metric::Rss, Metric::Allocs};

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

std::string formatTrace(const TraceReport& trace, bool rawBytes, std::size_t maxFrames) {
  std::string text = fmt::format(
      "Allocations still live after {} traced calls: {} blocks, {}; top {} call stacks:\n",
      trace.calls, trace.liveCount, formatBytes(static_cast<double>(trace.liveBytes), rawBytes, false),
      trace.sites.size());
  int rank = 0;
  for (const TraceSite& site : trace.sites) {
    text += fmt::format("  #{} {} blocks, {} ({:.2f} blocks/call)\n", ++rank, site.count,
                        formatBytes(static_cast<double>(site.bytes), rawBytes, false),
                        static_cast<double>(site.count) / static_cast<double>(std::max<std::int64_t>(1, trace.calls)));
    std::size_t shown = 0;
    for (const TraceFrame& frame : site.frames) {
      if (shown++ == maxFrames) {
        text += fmt::format("      ... {} more frames\n", site.frames.size() - maxFrames);
        break;
      }
      const std::string object = frame.object.substr(frame.object.rfind('/') + 1);
      if (!frame.file.empty()) {
        text += fmt::format("      {} at {}:{} ({})\n", frame.function, frame.file, frame.line, object);
      } else {
        text += fmt::format("      {} ({})\n", frame.function, object);
      }
    }
  }
  if (trace.dropped > 0) {
    text += fmt::format("  ({} allocations were not recorded: the trace table was full)\n", trace.dropped);
  }
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
