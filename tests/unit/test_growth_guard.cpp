// GrowthGuard over a workload whose memory grows by a set amount per call: how far past
// --max-growth it lets memory go, that it makes no call once it stopped, and how often
// it samples when nothing grows.

#include "runner/growth_guard.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace psleak {
namespace {

class GrowingWorkload : public Workload {
 public:
  void call(std::int64_t times) override {
    for (std::int64_t i = 0; i < times; ++i) {
      bytes += calls < jumpAfter ? perCall : jumpedPerCall;
      ++calls;
    }
    chunks.push_back(times);
  }
  void clearCaches() override {}

  std::int64_t perCall = 0;
  std::int64_t jumpAfter = INT64_MAX;  // from this call on, each call grows jumpedPerCall
  std::int64_t jumpedPerCall = 0;
  std::int64_t bytes = 0;
  std::int64_t calls = 0;
  std::vector<std::int64_t> chunks;
};

class RssSampler : public Sampler {
 public:
  explicit RssSampler(const GrowingWorkload& workload) : workload_(workload) {}
  void trim() override {}
  Sample sample() override {
    ++samples;
    Sample sample;
    sample.set(Metric::Rss, (64 << 20) + workload_.bytes);
    sample.set(Metric::Allocs, workload_.bytes);  // not guarded: never stops the calls
    return sample;
  }
  int samples = 0;

 private:
  const GrowingWorkload& workload_;
};

TEST(GrowthGuard, StopsWithinOneCallOfTheLimit) {
  for (std::int64_t perCall : {1, 1000, 4096, 1 << 20}) {
    GrowingWorkload workload;
    workload.perCall = perCall;
    RssSampler sampler(workload);
    const std::int64_t limit = std::int64_t{1} << 30;
    GrowthGuard guard(workload, sampler, limit);
    EXPECT_THROW(guard.call(INT64_MAX / 2), GrowthLimitExceeded) << perCall;
    EXPECT_GT(workload.bytes, limit) << perCall;
    EXPECT_LE(workload.bytes, limit + perCall) << perCall;
  }
}

TEST(GrowthGuard, ACallThatPassesTheLimitAloneStopsAfterIt) {
  GrowingWorkload workload;
  workload.perCall = 200 << 20;
  RssSampler sampler(workload);
  GrowthGuard guard(workload, sampler, 64 << 20);
  try {
    guard.call(10);
    FAIL() << "no GrowthLimitExceeded";
  } catch (const GrowthLimitExceeded& e) {
    EXPECT_EQ(e.callsCompleted(), 1);
    EXPECT_EQ(e.limit(), 64 << 20);
    ASSERT_EQ(e.past().size(), 1u);
    EXPECT_EQ(e.past()[0].metric, Metric::Rss);
    EXPECT_EQ(e.past()[0].growth, 200 << 20);
  }
  EXPECT_EQ(workload.calls, 1);
}

TEST(GrowthGuard, MakesNoCallOnceStopped) {
  GrowingWorkload workload;
  workload.perCall = 1 << 20;
  RssSampler sampler(workload);
  GrowthGuard guard(workload, sampler, 8 << 20);
  EXPECT_THROW(guard.call(100), GrowthLimitExceeded);
  const std::int64_t calls = workload.calls;
  try {
    guard.call(5);
    FAIL() << "no GrowthLimitExceeded";
  } catch (const GrowthLimitExceeded& e) {
    EXPECT_EQ(e.callsCompleted(), 0);
  }
  EXPECT_EQ(workload.calls, calls);
}

TEST(GrowthGuard, ASuddenLeakIsCaughtWithinAChunk) {
  // Quiet for 10000 calls, then 1 MiB a call: the chunk grown meanwhile is what passes.
  GrowingWorkload workload;
  workload.jumpAfter = 10000;
  workload.jumpedPerCall = 1 << 20;
  RssSampler sampler(workload);
  GrowthGuard guard(workload, sampler, std::int64_t{1} << 30);
  EXPECT_THROW(guard.call(1000000), GrowthLimitExceeded);
  std::int64_t largestChunk = 0;
  for (std::int64_t chunk : workload.chunks) largestChunk = std::max(largestChunk, chunk);
  EXPECT_LE(workload.bytes, (std::int64_t{1} << 30) + largestChunk * (1 << 20));
}

TEST(GrowthGuard, SamplesRarelyWhenNothingGrows) {
  GrowingWorkload workload;
  RssSampler sampler(workload);
  GrowthGuard guard(workload, sampler, 1 << 20);
  guard.call(1000000);
  EXPECT_EQ(workload.calls, 1000000);
  // Chunks double from one call: about log2 of the calls, plus the baseline.
  EXPECT_LE(sampler.samples, 22);
}

}  // namespace
}  // namespace psleak
