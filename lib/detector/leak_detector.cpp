#include "detector/leak_detector.h"

#include <algorithm>

namespace psleak {

std::vector<MetricGrowth> LeakDetector::growingMetrics(const RunDelta& run,
                                                       const RunDelta* previous) const {
  std::vector<MetricGrowth> growing;
  for (Metric m : kAllMetrics) {
    if (!run.growth.has(m)) continue;
    const std::int64_t growth = run.growth.get(m);
    // The first run is compared with no growth at all, as in the seed design.
    const std::int64_t before =
        (previous && previous->growth.has(m)) ? previous->growth.get(m) : 0;
    const bool withinTolerance = growth <= settings_.tolerance.get(m);
    bool settled = false;
    if (isByteExactMetric(m)) {
      const double previousRate = (previous && previous->calls > 0)
                                      ? static_cast<double>(before) / static_cast<double>(previous->calls)
                                      : 0.0;
      settled = run.perCall(m) <= kStableRateShare * previousRate;
    } else {
      settled = growth <= before;
    }
    if (!withinTolerance && !settled) growing.push_back({m, growth, run.perCall(m)});
  }
  return growing;
}

Assessment LeakDetector::assess(const std::vector<RunDelta>& runs) const {
  Assessment result;
  result.runs = static_cast<int>(runs.size());
  if (runs.empty()) return result;
  const RunDelta* previous = runs.size() > 1 ? &runs[runs.size() - 2] : nullptr;
  result.growing = growingMetrics(runs.back(), previous);
  if (result.growing.empty()) {
    result.decision = Decision::Clean;
    return result;
  }
  // Exact counters are present when the hooks' block count is.
  if (runs.back().growth.has(Metric::Allocs)) {
    for (Metric m : kAllMetrics) {
      if (isExactMetric(m) && growsWithCalls(runs, m)) {
        result.decision = Decision::Leak;
        result.proportional = true;
        return result;
      }
    }
  }
  if (result.runs >= settings_.retries) result.decision = Decision::Leak;
  return result;
}

bool LeakDetector::growsWithCalls(const std::vector<RunDelta>& runs, Metric m) const {
  if (static_cast<int>(runs.size()) < kProportionalRuns) return false;
  double lowest = 0.0;
  double highest = 0.0;
  std::int64_t previousGrowth = 0;
  for (std::size_t i = runs.size() - kProportionalRuns; i < runs.size(); ++i) {
    const RunDelta& run = runs[i];
    if (!run.growth.has(m) || run.calls <= 0) return false;
    const std::int64_t growth = run.growth.get(m);
    if (growth <= settings_.tolerance.get(m) || growth <= previousGrowth) return false;
    const double rate = run.perCall(m);
    lowest = (i == runs.size() - kProportionalRuns) ? rate : std::min(lowest, rate);
    highest = std::max(highest, rate);
    previousGrowth = growth;
  }
  return highest <= lowest * kProportionalSpread;
}

std::int64_t callsForRun(int run, std::int64_t firstCalls) {
  const std::int64_t step = std::max<std::int64_t>(1, firstCalls / 2);
  return firstCalls + static_cast<std::int64_t>(std::max(0, run - 1)) * step;
}

}  // namespace psleak
