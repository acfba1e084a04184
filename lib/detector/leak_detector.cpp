#include "detector/leak_detector.h"

#include <algorithm>

namespace psleak {

MetricRole metricRole(Metric m, bool exactCounters) {
  switch (m) {
    case Metric::Allocs:
    case Metric::AllocBytes:
    case Metric::MmapUsed:
      return MetricRole::Exact;
    case Metric::HeapUsed:
      return exactCounters ? MetricRole::ShownOnly : MetricRole::Exact;
    case Metric::HeapTotal:
      return exactCounters ? MetricRole::ShownOnly : MetricRole::Kernel;
    case Metric::Rss:
    case Metric::Uss:
    case Metric::Vms:
      return MetricRole::Kernel;
  }
  return MetricRole::ShownOnly;
}

std::int64_t noiseFloor(Metric m, bool exactCounters) {
  switch (metricRole(m, exactCounters)) {
    case MetricRole::Exact:
      // The hooks' counters and malloc's mmap'd blocks do not wobble; the heap's
      // statistics without the hooks do, a little.
      return m == Metric::HeapUsed ? kAllocatorFloorBytes : 0;
    case MetricRole::Kernel:
      return kKernelFloorBytes;
    case MetricRole::ShownOnly:
      break;
  }
  return 0;
}

std::int64_t strongGrowth(Metric m) { return isCountMetric(m) ? kStrongGrowthBlocks : kStrongGrowthBytes; }

bool hasExactCounters(const std::vector<RunDelta>& runs) {
  return !runs.empty() && runs.back().growth.has(Metric::Allocs);
}

std::int64_t LeakDetector::threshold(Metric m, bool exactCounters) const {
  return std::max(settings_.tolerance.get(m), noiseFloor(m, exactCounters));
}

namespace {

// Growth of `m` in run `i` (0-based), or 0 when that run did not measure it.
std::int64_t growthAt(const std::vector<RunDelta>& runs, std::size_t i, Metric m) {
  return runs[i].growth.has(m) ? runs[i].growth.get(m) : 0;
}

}  // namespace

bool LeakDetector::stillGrowing(const std::vector<RunDelta>& runs, Metric m,
                                bool exactCounters) const {
  const std::size_t last = runs.size() - 1;
  const RunDelta& run = runs[last];
  if (!run.growth.has(m)) return false;
  const std::int64_t growth = run.growth.get(m);
  if (growth <= settings_.tolerance.get(m)) return false;  // the user's word is final
  const MetricRole role = metricRole(m, exactCounters);
  const std::int64_t floor = noiseFloor(m, exactCounters);
  if (growth <= floor) {
    // Within the allocator's wobble. A small leak is there too in a short first run, so
    // an exact metric's first run settles only at half the floor; later, two runs in a
    // row within the floor do.
    if (role != MetricRole::Exact || floor == 0) return false;
    if (last == 0) return growth > floor / 2;
    return growthAt(runs, last - 1, m) > floor;
  }
  if (last == 0) return true;  // the first run is compared with no growth at all
  switch (role) {
    case MetricRole::Exact: {
      // A cache that fills grows less and less per call: its rate soon falls to half
      // of what it was in every run before. Compared with the lowest rate of the runs
      // before, not just the last one, so that a leak whose growth comes in lumps (a
      // list or dict that resizes, a realloc'd buffer) is not taken for a cache when
      // the run after a lump grows less. Growth made once per run, whatever its calls,
      // halves only slowly this way; the `retries` rule judges it by its size.
      double lowestRate = runs[0].perCall(m);
      for (std::size_t i = 1; i < last; ++i) lowestRate = std::min(lowestRate, runs[i].perCall(m));
      return run.perCall(m) > kStableRateShare * std::max(0.0, lowestRate);
    }
    case MetricRole::Kernel:
      // Pages come and go: only growth above the one before counts.
      return growth > growthAt(runs, last - 1, m);
    case MetricRole::ShownOnly:
      break;
  }
  return false;
}

std::vector<MetricGrowth> LeakDetector::growingMetrics(const std::vector<RunDelta>& runs) const {
  std::vector<MetricGrowth> growing;
  if (runs.empty()) return growing;
  const bool exact = hasExactCounters(runs);
  const RunDelta& run = runs.back();
  for (Metric m : kAllMetrics) {
    if (metricRole(m, exact) == MetricRole::ShownOnly) continue;
    if (stillGrowing(runs, m, exact)) growing.push_back({m, run.growth.get(m), run.perCall(m)});
  }
  return growing;
}

namespace {

// Growth of `m` in `run` beyond what the user tolerates of it, never below 0.
std::int64_t growthBeyondTolerance(const RunDelta& run, Metric m, const Tolerance& tolerance) {
  if (!run.growth.has(m)) return 0;
  return std::max<std::int64_t>(0, run.growth.get(m) - tolerance.get(m));
}

}  // namespace

std::vector<RunDelta> runsAsJudged(const std::vector<RunDelta>& runs, const Tolerance& tolerance) {
  std::vector<RunDelta> judged = runs;
  const bool exact = hasExactCounters(runs);
  // The exact metrics that decide alone, whose growth the kernel figures see again. (A
  // block malloc maps on its own is in both with the hooks: taken out twice, which only
  // makes the kernel figures more cautious.)
  const Metric counted[2] = {exact ? Metric::AllocBytes : Metric::HeapUsed, Metric::MmapUsed};
  for (RunDelta& run : judged) {
    std::int64_t countedGrowth = 0;
    for (Metric m : counted) countedGrowth += growthBeyondTolerance(run, m, tolerance);
    for (Metric m : {Metric::Rss, Metric::Uss, Metric::Vms}) {
      if (run.growth.has(m)) run.growth.set(m, run.growth.get(m) - countedGrowth);
    }
    // Without the hooks the arena is a kernel figure too, and holds the heap's blocks.
    if (!exact && run.growth.has(Metric::HeapTotal)) {
      run.growth.set(Metric::HeapTotal, run.growth.get(Metric::HeapTotal) -
                                            growthBeyondTolerance(run, Metric::HeapUsed, tolerance));
    }
    if (run.growth.has(Metric::Uss) && run.growth.has(Metric::Rss)) {
      run.growth.set(Metric::Uss, std::min(run.growth.get(Metric::Uss), run.growth.get(Metric::Rss)));
    }
    if (!exact && run.growth.has(Metric::HeapUsed) && run.growth.has(Metric::MmapUsed)) {
      run.growth.set(Metric::HeapUsed,
                     run.growth.get(Metric::HeapUsed) + run.growth.get(Metric::MmapUsed));
    }
  }
  return judged;
}

Assessment LeakDetector::assess(const std::vector<RunDelta>& measured) const {
  const std::vector<RunDelta> judged = runsAsJudged(measured, settings_.tolerance);
  Assessment result = judge(judged);
  // Reported as measured (the figures of the run table), but for heap_used without the
  // counters: as judged, since its measured growth alone may be a fall (a block that
  // moved into an mmap'd one), and then without mmap_used beside it when that says the
  // same (heap_used's own growth within its floor), not to give one growth twice.
  const bool exact = hasExactCounters(measured);
  const bool mmapGrowing = std::any_of(result.growing.begin(), result.growing.end(),
                                       [](const MetricGrowth& g) { return g.metric == Metric::MmapUsed; });
  std::vector<MetricGrowth> reported;
  for (const MetricGrowth& growth : result.growing) {
    const bool asJudged = growth.metric == Metric::HeapUsed && !exact;
    const std::vector<RunDelta>& source = asJudged ? judged : measured;
    if (asJudged && mmapGrowing &&
        measured.back().growth.get(Metric::HeapUsed) <= noiseFloor(Metric::HeapUsed, exact)) {
      continue;
    }
    reported.push_back({growth.metric, source.back().growth.get(growth.metric),
                        source.back().perCall(growth.metric)});
  }
  result.growing = reported;
  return result;
}

Assessment LeakDetector::judge(const std::vector<RunDelta>& runs) const {
  Assessment result;
  result.runs = static_cast<int>(runs.size());
  if (runs.empty()) return result;
  result.growing = growingMetrics(runs);
  if (result.growing.empty()) {
    result.decision = Decision::Clean;
    return result;
  }
  const bool convicted = std::any_of(result.growing.begin(), result.growing.end(),
                                     [&](const MetricGrowth& g) { return growsWithCalls(runs, g.metric); });
  if (convicted) {
    // The evidence: every metric that grew in proportion over the last three runs, the
    // small ones included once one metric has settled the question.
    std::vector<MetricGrowth> proportional;
    for (const MetricGrowth& growth : result.growing) {
      if (grewInProportion(runs, growth.metric, kProportionalRuns)) proportional.push_back(growth);
    }
    result.decision = Decision::Leak;
    result.proportional = true;
    result.growing = proportional;
    return result;
  }
  if (result.runs < settings_.retries) return result;
  // Out of runs: a metric that grew in each of the last three runs, by more than a
  // kept result's wobble adds up to in the last, is a leak. (The check went on because
  // something grew in every run, but not necessarily the same metric every time.)
  std::vector<MetricGrowth> strong;
  for (const MetricGrowth& growth : result.growing) {
    if (growth.growth >= strongGrowth(growth.metric) && grewInEachOfLastRuns(runs, growth.metric) &&
        risesWithCalls(runs, growth.metric)) {
      strong.push_back(growth);
    }
  }
  result.growing = strong;
  result.decision = strong.empty() ? Decision::Clean : Decision::Leak;
  return result;
}

bool LeakDetector::grewInEachOfLastRuns(const std::vector<RunDelta>& runs, Metric m) const {
  // The last three runs, or all of them when --retries allows fewer.
  const std::size_t window = std::min<std::size_t>(kProportionalRuns, runs.size());
  const bool exact = hasExactCounters(runs);
  for (std::size_t end = runs.size() - window + 1; end <= runs.size(); ++end) {
    const std::vector<RunDelta> prefix(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(end));
    if (!stillGrowing(prefix, m, exact)) return false;
  }
  return true;
}

bool LeakDetector::risesWithCalls(const std::vector<RunDelta>& runs, Metric m, double share) const {
  if (runs.size() < 2) return true;  // one run: nothing to compare it with
  // The mean growth and calls of the earlier and the later half of the runs (the middle
  // run, if any, in the later half).
  const std::size_t half = runs.size() / 2;
  double growth[2] = {0, 0}, calls[2] = {0, 0};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::size_t part = i < half ? 0 : 1;
    growth[part] += static_cast<double>(growthAt(runs, i, m));
    calls[part] += static_cast<double>(runs[i].calls);
  }
  const double counts[2] = {static_cast<double>(half), static_cast<double>(runs.size() - half)};
  const double earlierGrowth = growth[0] / counts[0], laterGrowth = growth[1] / counts[1];
  const double callsRatio = (calls[1] / counts[1]) / (calls[0] / counts[0]);
  if (earlierGrowth <= 0) return laterGrowth > 0;
  return laterGrowth >= earlierGrowth * (1 + (callsRatio - 1) * share);
}

bool LeakDetector::growsWithCalls(const std::vector<RunDelta>& runs, Metric m) const {
  if (static_cast<int>(runs.size()) < kProportionalRuns) return false;
  const bool weak = growthAt(runs, runs.size() - kProportionalRuns, m) < strongGrowth(m);
  return grewInProportion(runs, m, weak ? kWeakProportionalRuns : kProportionalRuns);
}

bool LeakDetector::grewInProportion(const std::vector<RunDelta>& runs, Metric m, int window) const {
  if (static_cast<int>(runs.size()) < window) return false;
  const bool exact = hasExactCounters(runs);
  if (metricRole(m, exact) == MetricRole::ShownOnly) return false;
  const std::int64_t floor = threshold(m, exact);
  double lowest = 0.0;
  double highest = 0.0;
  std::int64_t previousGrowth = 0;
  for (std::size_t i = runs.size() - window; i < runs.size(); ++i) {
    const RunDelta& run = runs[i];
    if (!run.growth.has(m) || run.calls <= 0) return false;
    const std::int64_t growth = run.growth.get(m);
    if (growth <= floor || growth <= previousGrowth) return false;
    const double rate = run.perCall(m);
    lowest = (i == runs.size() - window) ? rate : std::min(lowest, rate);
    highest = std::max(highest, rate);
    previousGrowth = growth;
  }
  if (highest > lowest * kProportionalSpread) return false;
  const std::vector<RunDelta> windowRuns(runs.end() - window, runs.end());
  if (!risesWithCalls(windowRuns, m, kProportionalRiseShare)) return false;
  return metricRole(m, exact) != MetricRole::Kernel ||
         risesWithCalls(runs, m, kKernelWholeCheckRiseShare);
}

std::int64_t callsForRun(int run, std::int64_t firstCalls) {
  const std::int64_t step = std::max<std::int64_t>(1, firstCalls / 2);
  return firstCalls + static_cast<std::int64_t>(std::max(0, run - 1)) * step;
}

}  // namespace psleak
