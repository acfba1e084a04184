#pragma once
// The leak detector: pure logic over the series of run deltas. No Python, no OS.
//
// The seed method: each run makes more calls than the one before. Memory that leaks
// grows with the calls, so every run grows more than the previous one; a cache fills
// and stops, so some run grows no more than the one before (or not beyond tolerance).
// That first "stable" run ends the check as clean; still growing after `retries`
// runs is a leak. For the byte-exact metrics (heap_used, mmap_used, allocs, alloc_bytes)
// "no more than the run before" is taken per call and with a margin: the rate per call
// must at least halve. A real leak whose growth is uneven (a Python list that resizes
// now and then) can easily grow a little less in one run than in the one before, while
// the growth of a cache that fills drops far below half.
//
// With psleak's exact allocation counters (allocs, alloc_bytes) a leak shows sooner:
// memory leaked on every call, or every k-th call, grows in proportion to the calls,
// so three runs whose growth rises with their calls at a steady rate per call are
// enough to call it a leak.

#include <cstdint>
#include <string>
#include <vector>

#include "detector/metrics.h"

namespace psleak {

// Growth in bytes that counts as no growth, per metric.
class Tolerance {
 public:
  Tolerance() = default;
  explicit Tolerance(std::int64_t all) { bytes_.fill(all); }
  void set(Metric m, std::int64_t value) { bytes_[metricIndex(m)] = value; }
  std::int64_t get(Metric m) const { return bytes_[metricIndex(m)]; }

 private:
  std::array<std::int64_t, kMetricCount> bytes_{};
};

// A byte-exact metric is stable when its growth per call is at most this share of the
// previous run's.
inline constexpr double kStableRateShare = 0.5;

struct DetectorSettings {
  int retries = 10;  // runs before growth that never stops is called a leak
  Tolerance tolerance;
};

enum class Decision { Continue, Clean, Leak };

// How one metric grew in the latest run.
struct MetricGrowth {
  Metric metric;
  std::int64_t growth = 0;     // bytes in the latest run
  double perCall = 0.0;        // bytes per call in the latest run
};

struct Assessment {
  Decision decision = Decision::Continue;
  int runs = 0;                       // runs assessed
  std::vector<MetricGrowth> growing;  // metrics that grew beyond tolerance and the previous run
  bool proportional = false;          // Leak decided early: growth proportional to the calls
  std::int64_t limitExceeded = 0;     // Leak decided at once: growth passed this --max-growth
};

// Runs over which proportional growth of an exact metric is a leak, and how far the
// per-call rates of those runs may differ (largest / smallest).
inline constexpr int kProportionalRuns = 3;
inline constexpr double kProportionalSpread = 1.25;

class LeakDetector {
 public:
  explicit LeakDetector(DetectorSettings settings) : settings_(settings) {}

  // Judges the runs so far (oldest first). Never throws.
  Assessment assess(const std::vector<RunDelta>& runs) const;

  // Metrics of `run` that count as growing, given the run before it (or none).
  std::vector<MetricGrowth> growingMetrics(const RunDelta& run, const RunDelta* previous) const;

  // Whether exact metric `m` grew beyond tolerance in each of the last kProportionalRuns
  // runs, more each run, at per-call rates within kProportionalSpread of each other.
  bool growsWithCalls(const std::vector<RunDelta>& runs, Metric m) const;

  const DetectorSettings& settings() const { return settings_; }

 private:
  DetectorSettings settings_;
};

// The number of calls run `run` (1-based) makes: the first run makes `firstCalls`, and
// each later one half of that more, so that a leak's growth rises run after run.
std::int64_t callsForRun(int run, std::int64_t firstCalls);

}  // namespace psleak
