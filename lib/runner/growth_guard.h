#pragma once
// --max-growth: every call psleak makes to the target (warm-up, resource checks, memory
// runs, reference counts, --trace) goes through one GrowthGuard. It makes the calls in
// chunks and samples memory between them; once a guarded metric has grown past the
// limit since the guard was made, it throws, and makes no call from then on, so that a
// target that leaks very fast cannot take the machine down.

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "detector/metrics.h"
#include "runner/memory_check.h"

namespace psleak {

// Thrown by GrowthGuard::call once memory grew past the limit.
class GrowthLimitExceeded : public std::runtime_error {
 public:
  GrowthLimitExceeded(std::vector<MetricGrowth> past, std::int64_t limit, std::int64_t callsCompleted);
  // Each guarded metric past the limit: its growth since the guard was made, per call of
  // all the calls made through the guard.
  const std::vector<MetricGrowth>& past() const { return past_; }
  std::int64_t limit() const { return limit_; }
  // Calls completed by the GrowthGuard::call that threw, before it stopped.
  std::int64_t callsCompleted() const { return callsCompleted_; }

 private:
  std::vector<MetricGrowth> past_;
  std::int64_t limit_;
  std::int64_t callsCompleted_;
};

class GrowthGuard : public Workload {
 public:
  // Samples the baseline now. `inner` and `sampler` must outlive the guard; limit > 0.
  GrowthGuard(Workload& inner, Sampler& sampler, std::int64_t limit);

  // Calls `inner` `times` times in chunks, sampling after each chunk. A chunk starts at
  // one call and doubles while the growth seen so far per call leaves room for it: it
  // is at most half of what is left below the limit at that rate, and lasts at most
  // about kMaxChunkSeconds. Throws GrowthLimitExceeded after the chunk that passed the
  // limit, and at once on every call after that.
  void call(std::int64_t times) override;
  void clearCaches() override { inner_.clearCaches(); }

  // The longest a chunk of calls runs between two samples, once calls are fast and
  // memory does not grow: the guard's cost (a sample reads /proc) stays below 1%.
  static constexpr double kMaxChunkSeconds = 0.05;

 private:
  // The largest growth of a guarded metric since the baseline.
  std::int64_t largestGrowth(const Sample& now) const;
  void adaptChunk(std::int64_t calls, std::int64_t growthBefore, std::int64_t growthAfter,
                  double seconds);

  Workload& inner_;
  Sampler& sampler_;
  std::int64_t limit_;
  Sample baseline_;
  std::int64_t chunk_ = 1;
  std::int64_t callsMade_ = 0;
  std::int64_t lastGrowth_ = 0;
  std::vector<MetricGrowth> past_;  // set once the limit is passed
};

}  // namespace psleak
