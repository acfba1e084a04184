#include "runner/growth_guard.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace psleak {

GrowthLimitExceeded::GrowthLimitExceeded(std::vector<MetricGrowth> past, std::int64_t limit,
                                         std::int64_t callsCompleted)
    : std::runtime_error("memory grew past --max-growth"),
      past_(std::move(past)),
      limit_(limit),
      callsCompleted_(callsCompleted) {}

GrowthGuard::GrowthGuard(Workload& inner, Sampler& sampler, std::int64_t limit)
    : inner_(inner), sampler_(sampler), limit_(limit), baseline_(sampler.sample()) {}

std::int64_t GrowthGuard::largestGrowth(const Sample& now) const {
  std::int64_t largest = 0;
  for (Metric m : kGuardedMetrics) {
    if (now.has(m) && baseline_.has(m)) largest = std::max(largest, now.get(m) - baseline_.get(m));
  }
  return largest;
}

void GrowthGuard::adaptChunk(std::int64_t calls, std::int64_t growthBefore,
                             std::int64_t growthAfter, double seconds) {
  std::int64_t next = std::min<std::int64_t>(chunk_, std::numeric_limits<std::int64_t>::max() / 2) * 2;
  // At the rate just seen, the next chunk may use at most half of the room left.
  const double perCall = static_cast<double>(growthAfter - growthBefore) / static_cast<double>(calls);
  if (perCall > 0) {
    const double room = static_cast<double>(limit_ - growthAfter);
    next = std::min(next, static_cast<std::int64_t>(std::max(1.0, room / (2 * perCall))));
  }
  if (seconds > 0) {
    const double perCallSeconds = seconds / static_cast<double>(calls);
    next = std::min(next, static_cast<std::int64_t>(std::max(1.0, kMaxChunkSeconds / perCallSeconds)));
  }
  chunk_ = std::max<std::int64_t>(1, next);
}

void GrowthGuard::call(std::int64_t times) {
  if (!past_.empty()) throw GrowthLimitExceeded(past_, limit_, 0);
  std::int64_t done = 0;
  while (done < times) {
    const std::int64_t calls = std::min(chunk_, times - done);
    const auto start = std::chrono::steady_clock::now();
    inner_.call(calls);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    done += calls;
    callsMade_ += calls;
    const Sample now = sampler_.sample();
    const std::int64_t growth = largestGrowth(now);
    if (growth > limit_) {
      for (Metric m : kGuardedMetrics) {
        if (!now.has(m) || !baseline_.has(m)) continue;
        const std::int64_t metricGrowth = now.get(m) - baseline_.get(m);
        if (metricGrowth > limit_) {
          past_.push_back({m, metricGrowth, static_cast<double>(metricGrowth) / static_cast<double>(callsMade_)});
        }
      }
      throw GrowthLimitExceeded(past_, limit_, done);
    }
    adaptChunk(calls, lastGrowth_, growth, seconds);
    lastGrowth_ = growth;
  }
}

}  // namespace psleak
