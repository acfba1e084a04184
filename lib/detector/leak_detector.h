#pragma once
// The leak detector: pure logic over the series of run deltas. No Python, no OS.
//
// Each run makes more calls than the one before. Memory that leaks grows with the
// calls; a cache fills and stops; noise comes and goes. How much a metric's growth is
// trusted depends on what measures it (see MetricRole):
//
// * Exact metrics are counted to the byte or block: psleak's hooks (allocs,
//   alloc_bytes, and mmap_used, which then holds every mapping the program made), or,
//   without the hooks, the allocator's own counts (heap_used with the thread cache taken
//   out, mmap_used). They decide alone. Growth in proportion to the calls over three
//   runs is a leak at once; a metric still growing in each of the last three of
//   `retries` runs, by more than a kept result's wobble, is a leak; one that stops (no
//   growth beyond its floor, a rate per call at most half the lowest of the runs
//   before) is settled.
// * Kernel figures (rss, uss, vms) and the arena size (heap_total) move by pages and
//   megabytes whatever the program does. They are shown, and they can find what no
//   counter sees (a shared file mapping, memory mapped with the raw system call, a
//   private allocator), but only on evidence that noise does not produce: growth of at
//   least kKernelFloorBytes in every run, rising with the calls, either in proportion
//   over three runs or for `retries` runs in a row.
// * With the hooks counting, the allocator's heap_used and heap_total only describe
//   memory the exact counters already count: shown, never deciding.

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

// How a metric's growth counts towards a verdict.
enum class MetricRole {
  Exact,      // counted exactly: decides alone
  Kernel,     // page-granular or noisy: needs growth above its floor that rises with the calls
  ShownOnly,  // described, never deciding (the allocator's view when the hooks count)
};

// The role of `m` in a series measured with (or without) psleak's exact counters.
MetricRole metricRole(Metric m, bool exactCounters);

// Growth per run below which a metric counts as not growing, whatever the tolerance says:
// what the allocator or the kernel moves by between identical calls.
// heap_used without the hooks: the allocator's counts wobble by a kilobyte or two (Python's
// own small caches), measured on clean functions whose frees vary in size.
inline constexpr std::int64_t kAllocatorFloorBytes = 1024;
// rss, uss, vms, heap_total: tens of kilobytes of pages come and go between runs of a
// clean function (page faults, arena growth, the kernel's own accounting).
inline constexpr std::int64_t kKernelFloorBytes = 128 * 1024;

std::int64_t noiseFloor(Metric m, bool exactCounters);

// A byte-exact metric is settled when its growth per call is at most this share of the
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
  // Metrics still growing in the latest run, by their own rule. On a leak: the evidence
  // (the metrics that grew in proportion, or kept growing), in metric order.
  std::vector<MetricGrowth> growing;
  bool proportional = false;          // Leak decided early: growth proportional to the calls
  std::int64_t limitExceeded = 0;     // Leak decided at once: growth passed this --max-growth
};

// Runs over which proportional growth is a leak, and how far the per-call rates of those
// runs may differ (largest / smallest).
inline constexpr int kProportionalRuns = 3;
inline constexpr double kProportionalSpread = 1.25;
// A function that keeps its latest result (of varying size) moves even the exact counters
// up and down by that result, and three runs of such wobble can happen to rise in step
// with the calls. Growth that small in the first run of the three (below these) needs
// kWeakProportionalRuns runs in proportion: wobble cannot keep rising for that long,
// since what it adds up to is bounded by the result's size. For the same reason, growth
// that never stops but is not in proportion is a leak after `retries` runs only when the
// last run grew by at least these sizes.
inline constexpr std::int64_t kStrongGrowthBlocks = 32;
inline constexpr std::int64_t kStrongGrowthBytes = 4096;
inline constexpr int kWeakProportionalRuns = 5;
// Growth made once per run, whatever its calls (what a run's cache clearing makes the
// code fill again, say), is no leak of the calls, however large: a verdict by `retries`
// needs growth that rises with the calls, the later half of the runs growing more than
// the earlier half by at least this share of what their calls rose by. A small share:
// a cache that never evicts but finds fewer new keys as it fills (a heavy-tailed key
// distribution) grows only 1.1 to 1.5 times more in the later half while the calls
// double, and is a leak all the same; flat growth per run does not rise at all.
inline constexpr double kRiseWithCallsShare = 0.1;
// Runs in proportion must also grow more as their calls rise, by at least this share of
// the rise (later half of the window against the earlier half, as above). Late in a
// long check the calls of three runs differ by less than kProportionalSpread (runs 8 to
// 10: 900 to 1,100), so growth that is flat per run but creeps up a little each time
// (a cache refilled after each run's clearing, a little more each time) would pass the
// spread test alone. Early in a check the spread test already demands more than this.
// A fifth: replayed on 3,080 recorded series of 41 clean, leaking and ambiguous
// functions, it takes away half or more of the leak verdicts on growth made once per
// pause between runs (16 of 180 series to 7) and decides every leak series as before
// but one, which its recorded runs leave undecided; from 0.3 up, a leak whose growth
// slows as it goes (a block kept at every square call count) is no longer found.
inline constexpr double kProportionalRiseShare = 0.2;
// A kernel figure (rss, uss, vms, heap_total) in proportion must also rise with the
// calls over the whole check, by this share, not only over its window: pages come and
// go by hundreds of kilobytes, and growth of a few hundred kilobytes made in every run
// whatever its calls (pages a run's refilled cache leaves scattered) wanders enough to
// look proportional over three late runs (inspect.getsourcelines over a pool of
// modules: rss +336, +344, +389 KiB at 500, 600, 700 calls, after +315 and +385 KiB at
// 200 and 300). Replayed on 5,666 recorded series of 130 functions, this changes no
// verdict but those; from 0.5 up it starts to lose a heavy-tailed leak.
inline constexpr double kKernelWholeCheckRiseShare = 0.2;

class LeakDetector {
 public:
  explicit LeakDetector(DetectorSettings settings) : settings_(settings) {}

  // Judges the runs so far (oldest first), as runsAsJudged() has them. Never throws.
  Assessment assess(const std::vector<RunDelta>& runs) const;

  // Metrics of the last run of `runs` that are still growing, by their role's rule.
  std::vector<MetricGrowth> growingMetrics(const std::vector<RunDelta>& runs) const;

  // Whether metric `m` grew above its floor and tolerance in each of the last
  // kProportionalRuns runs (kWeakProportionalRuns when the first of them grew less than
  // the strong-growth sizes), more each run, at per-call rates within kProportionalSpread,
  // rising with the calls over those runs (kProportionalRiseShare), and for a kernel
  // figure over the whole check too (kKernelWholeCheckRiseShare).
  bool growsWithCalls(const std::vector<RunDelta>& runs, Metric m) const;

  // Whether metric `m`'s mean growth in the later half of `runs` exceeds the earlier
  // half's by at least `share` of the rise of their mean calls.
  bool risesWithCalls(const std::vector<RunDelta>& runs, Metric m,
                      double share = kRiseWithCallsShare) const;

  const DetectorSettings& settings() const { return settings_; }

 private:
  std::int64_t threshold(Metric m, bool exactCounters) const;
  bool grewInEachOfLastRuns(const std::vector<RunDelta>& runs, Metric m) const;
  bool grewInProportion(const std::vector<RunDelta>& runs, Metric m, int window) const;
  bool stillGrowing(const std::vector<RunDelta>& runs, Metric m, bool exactCounters) const;
  // assess() on runs as they are judged (runsAsJudged).
  Assessment judge(const std::vector<RunDelta>& runs) const;
  DetectorSettings settings_;
};

// Growth of `m` in one run that wobble of a kept result does not reach (see above).
std::int64_t strongGrowth(Metric m);

// The runs as the detector judges them:
// * rss, uss and vms count only what the exact metrics that decide alone did not
//   count already: their growth less the counted growth (alloc_bytes, or heap_used
//   without the hooks, and mmap_used) beyond what the user tolerates of it. The pages of
//   a cache still filling come in steps that can rise in step with three runs while its
//   counted growth per call falls, as a cache's does; what the counters count, they
//   judge, and what the user lets them grow by, the kernel figures still see. Without
//   the hooks, heap_total (the arena) counts only what heap_used did not, likewise.
// * uss growth counts only as far as rss grew too. New private memory raises both; uss
//   alone rises when pages this process shares stop being shared (another process that
//   mapped the same library exits), which is no leak.
// * Without the hooks, heap_used counts malloc's mmap'd blocks too (heap_used +
//   mmap_used): a block that outgrows the mmap threshold (the table of a dict or list
//   that keeps growing) leaves the heap for a mapping of its own, so the heap falls in
//   the run where the mapping rises, and neither alone keeps growing. (With the hooks,
//   alloc_bytes counts both already.)
std::vector<RunDelta> runsAsJudged(const std::vector<RunDelta>& runs, const Tolerance& tolerance);

// True when the runs carry psleak's exact counters (the hooks were counting).
bool hasExactCounters(const std::vector<RunDelta>& runs);

// The number of calls run `run` (1-based) makes: the first run makes `firstCalls`, and
// each later one half of that more, so that a leak's growth rises run after run.
std::int64_t callsForRun(int run, std::int64_t firstCalls);

}  // namespace psleak
