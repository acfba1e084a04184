#pragma once
// The method of the original psleak package as a loop over two small interfaces, so
// that it can be tested without Python and reused by the CLI and the Python module.
//
// warm up; then, per run: settle (clear caches, trim), sample, call N times,
// settle, sample; hand the deltas to the detector until it decides.

#include <cstdint>
#include <array>
#include <functional>
#include <vector>

#include "detector/leak_detector.h"
#include "detector/metrics.h"

namespace psleak {

// The thing under test. Implementations throw TargetError when a call fails.
class Workload {
 public:
  virtual ~Workload() = default;
  virtual void call(std::int64_t times) = 0;
  // Drops what the runtime caches between calls (gc, type cache, ...).
  virtual void clearCaches() = 0;
};

// Where samples come from.
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual void trim() = 0;  // give free memory back, so a sample sees live memory only
  virtual Sample sample() = 0;
};

// Growth past which a check stops at once with a leak verdict, so that a target that
// leaks very fast cannot take the machine down (--max-growth; 0: no limit).
inline constexpr std::int64_t kDefaultMaxGrowth = std::int64_t{1} << 30;

struct MemoryCheckSettings {
  std::int64_t warmup = 10;  // calls before the first run
  std::int64_t calls = 200;  // calls in the first run
  DetectorSettings detector;
  // runMemoryCheck guards its own calls with a GrowthGuard of this limit (0: none). A
  // caller that guards every call of its check itself passes 0 and its guarded workload.
  std::int64_t maxGrowth = kDefaultMaxGrowth;
  // Told as each run starts, before its caches are cleared and its first sample taken
  // (so it may allocate): where the check is, for what is said if the target ends the
  // process there. Optional.
  std::function<void(int run)> onRunStart;
};

// The metrics --max-growth watches: memory that is really there (resident pages, heap
// blocks in use), not address space a leak may never touch.
inline constexpr std::array<Metric, 3> kGuardedMetrics = {Metric::Rss, Metric::Uss,
                                                          Metric::HeapUsed};

struct MemoryCheckResult {
  std::vector<RunDelta> runs;
  Assessment assessment;  // decision is Clean or Leak
};

// Called after each run with the runs so far and the detector's view of them.
using RunCallback = std::function<void(const RunDelta&, const Assessment&)>;

// Warm-up, then runs until the detector decides. When a GrowthGuard (this one's, or the
// caller's around `workload`) stops the calls part-way through a run, that run ends
// there (sampled without clearing caches, which would run target code) and the result is
// a leak with `limitExceeded` set; a stop during the warm-up propagates.
MemoryCheckResult runMemoryCheck(Workload& workload, Sampler& sampler,
                                 const MemoryCheckSettings& settings,
                                 const RunCallback& onRun = {});

}  // namespace psleak
