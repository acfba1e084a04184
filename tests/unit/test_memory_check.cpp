// runMemoryCheck over a fake workload and sampler that share one event log: the order
// of the steps, the warm-up, the calls per run, the callback, and the decision.

#include "runner/memory_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.h"
#include "runner/growth_guard.h"

namespace psleak {
namespace {

using Log = std::vector<std::string>;

// Holds `bytes` of "native memory": grows by `leakPerCall` a call, plus a cache that
// fills by `cachePerCall` a call up to `cacheCapacity` and that clearCaches never frees.
class FakeWorkload : public Workload {
 public:
  explicit FakeWorkload(Log& log) : log_(log) {}

  void call(std::int64_t times) override {
    log_.push_back("call " + std::to_string(times));
    bytes += leakPerCall * times;
    const std::int64_t cached = std::min(cacheCapacity - cacheBytes, cachePerCall * times);
    cacheBytes += cached;
    bytes += cached;
    garbage += garbagePerCall * times;
  }
  void clearCaches() override {
    log_.push_back("clearCaches");
    garbage = 0;
  }

  std::int64_t bytes = 0;
  std::int64_t garbage = 0;  // freed by clearCaches
  std::int64_t leakPerCall = 0;
  std::int64_t cachePerCall = 0;
  std::int64_t cacheCapacity = 0;
  std::int64_t cacheBytes = 0;
  std::int64_t garbagePerCall = 0;

 private:
  Log& log_;
};

class FakeSampler : public Sampler {
 public:
  FakeSampler(Log& log, const FakeWorkload& workload) : log_(log), workload_(workload) {}

  void trim() override { log_.push_back("trim"); }
  Sample sample() override {
    log_.push_back("sample");
    Sample sample;
    sample.set(Metric::HeapUsed, workload_.bytes + workload_.garbage);
    sample.set(Metric::Rss, 1 << 20);  // present and never growing
    return sample;
  }

 private:
  Log& log_;
  const FakeWorkload& workload_;
};

class ThrowingWorkload : public Workload {
 public:
  void call(std::int64_t) override { throw TargetError("boom", "Traceback ..."); }
  void clearCaches() override {}
};

MemoryCheckSettings settings(std::int64_t warmup, std::int64_t calls, int retries) {
  MemoryCheckSettings s;
  s.warmup = warmup;
  s.calls = calls;
  s.detector.retries = retries;
  s.maxGrowth = 0;  // the guard samples between chunks of calls: tested on its own below
  return s;
}

// The events of run `run` of a check whose first run makes `firstCalls` calls.
Log runEvents(int run, std::int64_t firstCalls) {
  return {"clearCaches", "trim",  "sample", "call " + std::to_string(callsForRun(run, firstCalls)),
          "clearCaches", "trim", "sample"};
}

TEST(MemoryCheck, LeakingWorkloadIsLeakAfterRetriesWithStepsInOrder) {
  Log log;
  FakeWorkload workload(log);
  workload.leakPerCall = 48;
  FakeSampler sampler(log, workload);

  std::vector<int> callbackRuns;
  std::vector<Decision> callbackDecisions;
  const MemoryCheckResult result =
      runMemoryCheck(workload, sampler, settings(10, 200, 2),
                     [&](const RunDelta& run, const Assessment& assessment) {
                       callbackRuns.push_back(run.run);
                       callbackDecisions.push_back(assessment.decision);
                       EXPECT_EQ(assessment.runs, run.run);
                     });

  // Warm-up, one extra clearing, and a first sample thrown away.
  Log expected = {"call 10", "clearCaches", "clearCaches", "trim", "sample"};
  for (int run = 1; run <= 2; ++run) {
    const Log events = runEvents(run, 200);
    expected.insert(expected.end(), events.begin(), events.end());
  }
  EXPECT_EQ(log, expected);

  EXPECT_EQ(result.assessment.decision, Decision::Leak);
  ASSERT_EQ(result.runs.size(), 2u);
  for (int run = 1; run <= 2; ++run) {
    const RunDelta& delta = result.runs[static_cast<std::size_t>(run - 1)];
    EXPECT_EQ(delta.run, run);
    EXPECT_EQ(delta.calls, callsForRun(run, 200));
    EXPECT_EQ(delta.growth.get(Metric::HeapUsed), 48 * delta.calls);
    EXPECT_EQ(delta.growth.get(Metric::Rss), 0);
    EXPECT_FALSE(delta.growth.has(Metric::MmapUsed));
  }
  ASSERT_EQ(result.assessment.growing.size(), 1u);
  EXPECT_EQ(result.assessment.growing[0].metric, Metric::HeapUsed);
  EXPECT_DOUBLE_EQ(result.assessment.growing[0].perCall, 48.0);

  EXPECT_EQ(callbackRuns, (std::vector<int>{1, 2}));
  EXPECT_EQ(callbackDecisions, (std::vector<Decision>{Decision::Continue, Decision::Leak}));
}

TEST(MemoryCheck, CacheThatFillsThenStopsIsClean) {
  Log log;
  FakeWorkload workload(log);
  // 100 bytes a call up to 30000: warm-up takes 1000, run 1 20000, run 2 only 9000.
  workload.cachePerCall = 100;
  workload.cacheCapacity = 30000;
  FakeSampler sampler(log, workload);

  int callbacks = 0;
  const MemoryCheckResult result = runMemoryCheck(
      workload, sampler, settings(10, 200, 10), [&](const RunDelta&, const Assessment&) { ++callbacks; });

  EXPECT_EQ(result.assessment.decision, Decision::Clean);
  ASSERT_EQ(result.runs.size(), 2u);
  EXPECT_EQ(result.runs[0].growth.get(Metric::HeapUsed), 20000);
  EXPECT_EQ(result.runs[1].growth.get(Metric::HeapUsed), 9000);
  EXPECT_EQ(callbacks, 2);
}

TEST(MemoryCheck, GarbageFreedByClearCachesIsNotCounted) {
  Log log;
  FakeWorkload workload(log);
  workload.garbagePerCall = 1000;
  FakeSampler sampler(log, workload);

  const MemoryCheckResult result = runMemoryCheck(workload, sampler, settings(10, 200, 10));
  EXPECT_EQ(result.assessment.decision, Decision::Clean);
  ASSERT_EQ(result.runs.size(), 1u);
  EXPECT_EQ(result.runs[0].growth.get(Metric::HeapUsed), 0);
}

TEST(MemoryCheck, NoWarmupStartsWithTheFirstRun) {
  Log log;
  FakeWorkload workload(log);
  FakeSampler sampler(log, workload);

  const MemoryCheckResult result = runMemoryCheck(workload, sampler, settings(0, 7, 10));
  Log expected = {"clearCaches", "clearCaches", "trim", "sample"};  // the sample thrown away
  const Log run = runEvents(1, 7);
  expected.insert(expected.end(), run.begin(), run.end());
  EXPECT_EQ(log, expected);
  EXPECT_EQ(result.assessment.decision, Decision::Clean);
}

TEST(MemoryCheck, WarmupAloneCanFillACache) {
  Log log;
  FakeWorkload workload(log);
  workload.cachePerCall = 100;
  workload.cacheCapacity = 5000;  // filled by the 50 warm-up calls
  FakeSampler sampler(log, workload);

  const MemoryCheckResult result = runMemoryCheck(workload, sampler, settings(50, 200, 10));
  EXPECT_EQ(log.front(), "call 50");
  EXPECT_EQ(result.assessment.decision, Decision::Clean);
  ASSERT_EQ(result.runs.size(), 1u);
  EXPECT_EQ(result.runs[0].growth.get(Metric::HeapUsed), 0);
}

TEST(MemoryCheck, TargetErrorFromACallPropagates) {
  Log log;
  ThrowingWorkload workload;
  FakeWorkload unused(log);
  FakeSampler sampler(log, unused);
  EXPECT_THROW(runMemoryCheck(workload, sampler, settings(10, 200, 10)), TargetError);
}

TEST(MemoryCheck, MaxGrowthStopsARunPartWayWithALeak) {
  Log log;
  FakeWorkload workload(log);
  workload.leakPerCall = 1000;  // heap_used grows 1000 bytes a call
  FakeSampler sampler(log, workload);
  MemoryCheckSettings s = settings(0, 1600, 10);
  s.maxGrowth = 500000;  // passed after 501 calls
  const MemoryCheckResult result = runMemoryCheck(workload, sampler, s);
  EXPECT_EQ(result.assessment.decision, Decision::Leak);
  EXPECT_EQ(result.assessment.limitExceeded, 500000);
  ASSERT_EQ(result.runs.size(), 1u);
  // The guard slows down as the limit comes near: it stops one call past it.
  EXPECT_EQ(result.runs[0].calls, 501);
  ASSERT_EQ(result.assessment.growing.size(), 1u);
  EXPECT_EQ(result.assessment.growing[0].metric, Metric::HeapUsed);
  EXPECT_EQ(result.assessment.growing[0].growth, 501000);
  // No call after that, and the run's end is sampled without clearing caches (which
  // runs target code).
  EXPECT_EQ(workload.bytes, 501000);
  EXPECT_EQ(log.back(), "sample");
  EXPECT_NE(log[log.size() - 2], "trim");
}

TEST(MemoryCheck, MaxGrowthLeavesAnOrdinaryCheckAlone) {
  Log log;
  FakeWorkload workload(log);
  FakeSampler sampler(log, workload);
  MemoryCheckSettings s = settings(10, 200, 10);
  s.maxGrowth = 1 << 20;
  const MemoryCheckResult result = runMemoryCheck(workload, sampler, s);
  EXPECT_EQ(result.assessment.decision, Decision::Clean);
  EXPECT_EQ(result.assessment.limitExceeded, 0);
  ASSERT_EQ(result.runs.size(), 1u);
  EXPECT_EQ(result.runs[0].calls, 200);
  // Without growth the chunks double: the 210 calls took 8 chunks (1, 2, ... 64, 83).
  const auto chunks = std::count_if(log.begin(), log.end(), [](const std::string& e) {
    return e.rfind("call ", 0) == 0;
  });
  EXPECT_EQ(chunks, 8);
}

TEST(MemoryCheck, MaxGrowthDuringTheWarmUpPropagates) {
  Log log;
  FakeWorkload workload(log);
  workload.leakPerCall = 1 << 20;
  FakeSampler sampler(log, workload);
  MemoryCheckSettings s = settings(10, 200, 10);
  s.maxGrowth = 3 << 20;
  EXPECT_THROW(runMemoryCheck(workload, sampler, s), GrowthLimitExceeded);
  EXPECT_EQ(workload.bytes, 4 << 20);  // four calls: the fourth passed the limit
}

}  // namespace
}  // namespace psleak
