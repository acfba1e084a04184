#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "report/format.h"
#include "report/report.h"

namespace psleak {

ExitCode Verdict::exitCode() const {
  switch (status) {
    case VerdictStatus::Clean:
      return ExitCode::Clean;
    case VerdictStatus::Leak:
      return ExitCode::Leak;
    case VerdictStatus::Error:
      break;
  }
  if (kind == "usage") return ExitCode::Usage;
  if (kind == "target") return ExitCode::Target;
  if (kind == "crash" || kind == "timeout") return ExitCode::Crashed;
  if (kind == "interrupted") return ExitCode::Interrupted;
  if (kind == "terminated") return ExitCode::Terminated;
  return ExitCode::Internal;
}

Verdict cleanVerdict(const std::vector<RunDelta>& runs) {
  Verdict verdict;
  verdict.status = VerdictStatus::Clean;
  std::int64_t calls = 0;
  for (const RunDelta& run : runs) calls += run.calls;
  verdict.message = fmt::format("no leak (memory stable after {} run{}, {} call{})", runs.size(),
                                runs.size() == 1 ? "" : "s", calls, calls == 1 ? "" : "s");
  return verdict;
}

Finding memoryLeakFinding(const Assessment& assessment, bool rawBytes) {
  // Name the two metrics that say most: the allocator's own first, then what the kernel
  // sees; the JSON has every growing metric.
  static constexpr std::array<Metric, kMetricCount> kMostTelling = {
      Metric::HeapUsed, Metric::AllocBytes, Metric::MmapUsed, Metric::Allocs,
      Metric::Uss,      Metric::Rss,      Metric::Vms,    Metric::HeapTotal};
  std::vector<MetricGrowth> telling;
  for (Metric m : kMostTelling) {
    for (const MetricGrowth& growth : assessment.growing) {
      if (growth.metric == m && telling.size() < 2) telling.push_back(growth);
    }
  }
  std::string metrics;
  for (const MetricGrowth& growth : telling) {
    if (!metrics.empty()) metrics += ", ";
    metrics += fmt::format("{} {}", metricLabel(growth.metric),
                           formatRatePerCall(growth.metric, growth.perCall, rawBytes));
  }
  if (assessment.limitExceeded > 0) {
    return growthLimitFinding(assessment.limitExceeded, assessment.growing,
                              fmt::format("in run {}", assessment.runs), rawBytes);
  }
  const std::string what =
      assessment.proportional
          ? fmt::format("memory grew in proportion to the calls in {} runs", assessment.runs)
          : fmt::format("memory kept increasing after {} run{}", assessment.runs,
                        assessment.runs == 1 ? "" : "s");
  return {CheckKind::Memory, Severity::Leak, fmt::format("{} ({})", what, metrics), {}};
}

Finding growthLimitFinding(std::int64_t limit, const std::vector<MetricGrowth>& past,
                           const std::string& where, bool rawBytes) {
  std::string grown;
  for (const MetricGrowth& growth : past) {
    if (!grown.empty()) grown += ", ";
    grown += fmt::format("{} {}", metricLabel(growth.metric),
                         formatBytes(static_cast<double>(growth.growth), rawBytes));
  }
  return {CheckKind::Memory, Severity::Leak,
          fmt::format("memory grew past --max-growth {} {} ({}); stopped there",
                      formatBytes(static_cast<double>(limit), rawBytes, false), where, grown),
          {}};
}

Verdict memoryLeakVerdict(const Assessment& assessment, bool rawBytes) {
  Verdict verdict;
  verdict.status = VerdictStatus::Leak;
  verdict.kind = "memory";
  verdict.kinds = {verdict.kind};
  verdict.growing = assessment.growing;
  verdict.message = memoryLeakFinding(assessment, rawBytes).message;
  return verdict;
}

Verdict composeVerdict(const std::optional<Assessment>& memory, const std::vector<RunDelta>& runs,
                       const std::vector<Finding>& findings) {
  Verdict verdict;
  if (memory && memory->decision == Decision::Leak) verdict.growing = memory->growing;
  std::vector<std::string> messages;
  for (const Finding& finding : findings) {
    if (finding.severity != Severity::Leak) continue;
    const std::string kind(checkName(finding.kind));
    verdict.status = VerdictStatus::Leak;
    if (verdict.kind.empty()) verdict.kind = kind;
    if (std::find(verdict.kinds.begin(), verdict.kinds.end(), kind) == verdict.kinds.end()) {
      verdict.kinds.push_back(kind);
    }
    messages.push_back(finding.message);
  }
  if (verdict.status == VerdictStatus::Leak) {
    verdict.message = messages.front();
    for (std::size_t i = 1; i < messages.size(); ++i) verdict.message += "; " + messages[i];
    return verdict;
  }
  if (memory) return cleanVerdict(runs);
  Verdict clean;
  clean.status = VerdictStatus::Clean;
  clean.message = "no leak";
  return clean;
}

Verdict errorVerdict(const std::string& kind, const std::string& message,
                     const std::string& details) {
  Verdict verdict;
  verdict.status = VerdictStatus::Error;
  verdict.kind = kind;
  verdict.message = message;
  verdict.details = details;
  return verdict;
}

}  // namespace psleak
