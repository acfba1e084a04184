#include <fmt/format.h>

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
  return ExitCode::Internal;
}

Verdict cleanVerdict(const std::vector<RunDelta>& runs) {
  Verdict verdict;
  verdict.status = VerdictStatus::Clean;
  std::int64_t calls = 0;
  for (const RunDelta& run : runs) calls += run.calls;
  verdict.message = fmt::format("no leak (memory stable after {} run{}, {} calls)", runs.size(),
                                runs.size() == 1 ? "" : "s", calls);
  return verdict;
}

Verdict memoryLeakVerdict(const Assessment& assessment, bool rawBytes) {
  Verdict verdict;
  verdict.status = VerdictStatus::Leak;
  verdict.kind = "memory";
  verdict.growing = assessment.growing;
  std::string metrics;
  for (const MetricGrowth& growth : assessment.growing) {
    if (!metrics.empty()) metrics += ", ";
    metrics += fmt::format("{} {}/call", metricLabel(growth.metric),
                           formatBytes(growth.perCall, rawBytes));
  }
  verdict.message = fmt::format("memory kept increasing after {} runs ({})", assessment.runs, metrics);
  return verdict;
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
