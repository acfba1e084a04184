// The leak detector on synthetic series: runs built by hand, with the calls growing as
// callsForRun makes them, judged one prefix at a time as runMemoryCheck would.

#include "detector/leak_detector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

namespace psleak {
namespace {

constexpr std::int64_t kFirstCalls = 200;

RunDelta makeRun(int run, std::initializer_list<std::pair<Metric, std::int64_t>> growth) {
  RunDelta delta;
  delta.run = run;
  delta.calls = callsForRun(run, kFirstCalls);
  for (const auto& [metric, bytes] : growth) delta.growth.set(metric, bytes);
  return delta;
}

// Every metric present, all zero but `metric`.
// A run as measured from allocator statistics and /proc alone (no psleak hooks:
// the exact counters allocs/alloc_bytes are absent).
RunDelta runWithOnly(int run, Metric metric, std::int64_t bytes) {
  RunDelta delta = makeRun(run, {});
  for (Metric m : kAllMetrics) {
    if (m == Metric::Allocs || m == Metric::AllocBytes) continue;
    delta.growth.set(m, m == metric ? bytes : 0);
  }
  return delta;
}

// A run measured with psleak's hooks: the exact counters are present.
RunDelta exactRun(int run, std::int64_t blocks, std::int64_t bytes) {
  RunDelta delta = runWithOnly(run, Metric::HeapUsed, bytes);
  delta.growth.set(Metric::Allocs, blocks);
  delta.growth.set(Metric::AllocBytes, bytes);
  return delta;
}

// Feeds the runs made by `makeRunN` to the detector one at a time, until it decides or
// `maxRuns` is reached; returns the decision after each run.
std::vector<Decision> decisionsFor(const LeakDetector& detector,
                                   const std::function<RunDelta(int)>& makeRunN, int maxRuns,
                                   Assessment* last = nullptr) {
  std::vector<RunDelta> runs;
  std::vector<Decision> decisions;
  for (int run = 1; run <= maxRuns; ++run) {
    runs.push_back(makeRunN(run));
    const Assessment assessment = detector.assess(runs);
    EXPECT_EQ(assessment.runs, run);
    decisions.push_back(assessment.decision);
    if (last) *last = assessment;
    if (assessment.decision != Decision::Continue) break;
  }
  return decisions;
}

std::vector<Decision> continuesThen(int continues, Decision final) {
  std::vector<Decision> decisions(static_cast<std::size_t>(continues), Decision::Continue);
  decisions.push_back(final);
  return decisions;
}

DetectorSettings settingsWith(int retries, Tolerance tolerance = Tolerance()) {
  DetectorSettings settings;
  settings.retries = retries;
  settings.tolerance = tolerance;
  return settings;
}

TEST(CallsForRun, FirstRunMakesFirstCallsThenHalfAsManyMoreEachRun) {
  const std::vector<std::int64_t> expected = {200, 300, 400, 500, 600, 700};
  for (int run = 1; run <= 6; ++run) EXPECT_EQ(callsForRun(run, 200), expected[run - 1]) << run;
  EXPECT_EQ(callsForRun(10, 200), 1100);
}

TEST(CallsForRun, OneCallStillGrowsByOneEachRun) {
  EXPECT_EQ(callsForRun(1, 1), 1);
  EXPECT_EQ(callsForRun(2, 1), 2);
  EXPECT_EQ(callsForRun(3, 1), 3);
  EXPECT_EQ(callsForRun(2, 3), 4);  // step is 3/2 = 1
}

TEST(LeakDetector, NoRunsYetMeansContinue) {
  const LeakDetector detector(settingsWith(10));
  const Assessment assessment = detector.assess({});
  EXPECT_EQ(assessment.decision, Decision::Continue);
  EXPECT_EQ(assessment.runs, 0);
  EXPECT_TRUE(assessment.growing.empty());
}

TEST(LeakDetector, GrowthProportionalToCallsIsLeakOnlyAfterRetriesRuns) {
  const LeakDetector detector(settingsWith(10));
  Assessment last;
  const auto decisions = decisionsFor(
      detector, [](int run) { return makeRun(run, {{Metric::HeapUsed, 96 * callsForRun(run, kFirstCalls)}}); },
      20, &last);
  EXPECT_EQ(decisions, continuesThen(9, Decision::Leak));
  ASSERT_EQ(last.growing.size(), 1u);
  EXPECT_EQ(last.growing[0].metric, Metric::HeapUsed);
  EXPECT_EQ(last.growing[0].growth, 96 * 1100);
  EXPECT_DOUBLE_EQ(last.growing[0].perCall, 96.0);
}

TEST(LeakDetector, RetriesOfOneDecidesLeakAtTheFirstRun) {
  const LeakDetector detector(settingsWith(1));
  const Assessment assessment = detector.assess({makeRun(1, {{Metric::HeapUsed, 20000}})});
  EXPECT_EQ(assessment.decision, Decision::Leak);
}

TEST(LeakDetector, PageMetricThatPlateausIsCleanAtTheFirstRunNotAboveThePrevious) {
  const LeakDetector detector(settingsWith(10));
  // RSS of a cache filling: 4000 bytes, then 6000, then 6000 again (no more than before).
  const std::vector<std::int64_t> growth = {4000, 6000, 6000, 6000};
  Assessment last;
  const auto decisions = decisionsFor(
      detector, [&](int run) { return makeRun(run, {{Metric::Rss, growth[run - 1]}}); }, 4,
      &last);
  EXPECT_EQ(decisions, continuesThen(2, Decision::Clean));
  EXPECT_TRUE(last.growing.empty());
}

TEST(LeakDetector, HeapThatPlateausIsCleanOnceItsRatePerCallHalves) {
  const LeakDetector detector(settingsWith(10));
  // 20 bytes a call, 20 again, then 5: the cache is full.
  const std::vector<std::int64_t> growth = {4000, 6000, 2000};
  const auto decisions = decisionsFor(
      detector, [&](int run) { return makeRun(run, {{Metric::HeapUsed, growth[run - 1]}}); }, 3);
  EXPECT_EQ(decisions, continuesThen(2, Decision::Clean));
}

TEST(LeakDetector, UnevenHeapLeakIsNotTakenForAPlateau) {
  // A Python list that grows on every call resizes now and then: a run may grow a
  // little less than the one before (here run 4 and run 10) while the rate per call
  // stays near 42 bytes. The seed rule would call run 4 stable.
  const LeakDetector detector(settingsWith(10));
  const std::vector<std::int64_t> growth = {8400, 14100, 16900, 16700, 21200,
                                            29000, 33800, 37400, 41900, 41100};
  Assessment last;
  const auto decisions = decisionsFor(
      detector, [&](int run) { return makeRun(run, {{Metric::HeapUsed, growth[run - 1]}}); }, 10,
      &last);
  EXPECT_EQ(decisions, continuesThen(9, Decision::Leak));
  ASSERT_EQ(last.growing.size(), 1u);
  EXPECT_EQ(last.growing[0].metric, Metric::HeapUsed);
}

TEST(LeakDetector, GrowthThatShrinksIsClean) {
  const LeakDetector detector(settingsWith(10));
  const std::vector<std::int64_t> growth = {8000, 12000, 500};
  const auto decisions = decisionsFor(
      detector, [&](int run) { return makeRun(run, {{Metric::Uss, growth[run - 1]}}); }, 3);
  EXPECT_EQ(decisions, continuesThen(2, Decision::Clean));
}

TEST(LeakDetector, SingleSpikeThenStableIsClean) {
  const LeakDetector detector(settingsWith(10));
  const std::vector<std::int64_t> growth = {1 << 20, 0, 0};
  const auto decisions = decisionsFor(
      detector,
      [&](int run) {
        return makeRun(run, {{Metric::HeapUsed, growth[run - 1]}, {Metric::Rss, growth[run - 1]}});
      },
      3);
  EXPECT_EQ(decisions, continuesThen(1, Decision::Clean));
}

TEST(LeakDetector, NoiseAroundZeroIsCleanEarly) {
  const LeakDetector detector(settingsWith(10));
  const std::vector<std::int64_t> heap = {48, -112, 64};
  const std::vector<std::int64_t> rss = {4096, 0, -4096};
  const auto decisions = decisionsFor(
      detector,
      [&](int run) {
        return makeRun(run, {{Metric::HeapUsed, heap[run - 1]}, {Metric::Rss, rss[run - 1]}});
      },
      3);
  EXPECT_EQ(decisions, continuesThen(1, Decision::Clean));

  // Shrinking from the start is clean at once.
  const Assessment first = detector.assess({makeRun(1, {{Metric::HeapUsed, -32}})});
  EXPECT_EQ(first.decision, Decision::Clean);
}

TEST(LeakDetector, GrowthInOneMetricOnlyIsLeakNamingThatMetric) {
  const LeakDetector detector(settingsWith(5));
  Assessment last;
  const auto decisions = decisionsFor(
      detector,
      [](int run) { return runWithOnly(run, Metric::MmapUsed, 4096 * callsForRun(run, kFirstCalls)); },
      10, &last);
  EXPECT_EQ(decisions, continuesThen(4, Decision::Leak));
  ASSERT_EQ(last.growing.size(), 1u);
  EXPECT_EQ(last.growing[0].metric, Metric::MmapUsed);
  EXPECT_EQ(last.growing[0].growth, 4096 * callsForRun(5, kFirstCalls));
  EXPECT_DOUBLE_EQ(last.growing[0].perCall, 4096.0);
}

TEST(LeakDetector, GrowingListsEveryGrowingMetricInMetricOrder) {
  const LeakDetector detector(settingsWith(2));
  const RunDelta first = makeRun(1, {{Metric::Rss, 100}, {Metric::HeapUsed, 100}, {Metric::Vms, 9}});
  const RunDelta second =
      makeRun(2, {{Metric::Rss, 300}, {Metric::HeapUsed, 150}, {Metric::Vms, 9}});
  const Assessment assessment = detector.assess({first, second});
  EXPECT_EQ(assessment.decision, Decision::Leak);
  ASSERT_EQ(assessment.growing.size(), 2u);
  EXPECT_EQ(assessment.growing[0].metric, Metric::HeapUsed);
  EXPECT_EQ(assessment.growing[1].metric, Metric::Rss);
  EXPECT_DOUBLE_EQ(assessment.growing[1].perCall, 1.0);  // 300 bytes over 300 calls
}

TEST(LeakDetector, GlobalToleranceTurnsSmallGrowthIntoClean) {
  auto smallLeak = [](int run) {
    return makeRun(run, {{Metric::HeapUsed, 8 * callsForRun(run, kFirstCalls)}});
  };
  // 8 bytes a call: 1600 bytes in run 1, 8800 in run 10.
  EXPECT_EQ(decisionsFor(LeakDetector(settingsWith(10)), smallLeak, 20),
            continuesThen(9, Decision::Leak));
  EXPECT_EQ(decisionsFor(LeakDetector(settingsWith(10, Tolerance(1600))), smallLeak, 20),
            continuesThen(0, Decision::Clean));
  // Growth one byte above the tolerance still counts.
  EXPECT_EQ(decisionsFor(LeakDetector(settingsWith(10, Tolerance(1599))), smallLeak, 20),
            continuesThen(9, Decision::Leak));
}

TEST(LeakDetector, PerMetricToleranceAppliesToThatMetricOnly) {
  auto leak = [](int run) {
    const std::int64_t calls = callsForRun(run, kFirstCalls);
    return makeRun(run, {{Metric::HeapUsed, 10 * calls}, {Metric::Rss, 20 * calls}});
  };
  Tolerance heapOnly;
  heapOnly.set(Metric::HeapUsed, 1 << 20);
  Assessment last;
  EXPECT_EQ(decisionsFor(LeakDetector(settingsWith(3, heapOnly)), leak, 10, &last),
            continuesThen(2, Decision::Leak));
  ASSERT_EQ(last.growing.size(), 1u);
  EXPECT_EQ(last.growing[0].metric, Metric::Rss);

  Tolerance both = heapOnly;
  both.set(Metric::Rss, 1 << 20);
  EXPECT_EQ(decisionsFor(LeakDetector(settingsWith(3, both)), leak, 10),
            continuesThen(0, Decision::Clean));
}

TEST(LeakDetector, MetricAbsentFromARunIsIgnored) {
  const LeakDetector detector(settingsWith(3));
  // Only USS is measured: its steady growth is the leak; nothing else is named.
  Assessment last;
  EXPECT_EQ(decisionsFor(
                detector,
                [](int run) { return makeRun(run, {{Metric::Uss, 64 * callsForRun(run, kFirstCalls)}}); },
                10, &last),
            continuesThen(2, Decision::Leak));
  ASSERT_EQ(last.growing.size(), 1u);
  EXPECT_EQ(last.growing[0].metric, Metric::Uss);

  // Heap grew in run 1 but is absent in run 2: only the (stable) USS is judged.
  const RunDelta first = makeRun(1, {{Metric::HeapUsed, 5000}, {Metric::Uss, 4096}});
  const RunDelta second = makeRun(2, {{Metric::Uss, 4096}});
  EXPECT_EQ(detector.assess({first, second}).decision, Decision::Clean);

  // A run that measured nothing has nothing growing.
  EXPECT_EQ(detector.assess({makeRun(1, {})}).decision, Decision::Clean);
}

TEST(LeakDetector, MetricAbsentFromThePreviousRunIsComparedWithZero) {
  const LeakDetector detector(settingsWith(10));
  const RunDelta first = makeRun(1, {{Metric::Uss, 0}});
  const RunDelta second = makeRun(2, {{Metric::Uss, 0}, {Metric::HeapUsed, 700}});
  const auto growing = detector.growingMetrics(second, &first);
  ASSERT_EQ(growing.size(), 1u);
  EXPECT_EQ(growing[0].metric, Metric::HeapUsed);
  EXPECT_EQ(growing[0].growth, 700);
  EXPECT_DOUBLE_EQ(growing[0].perCall, 700.0 / 300.0);
}

}  // namespace
// With the hooks' exact counters, growth proportional to the calls is a leak in 3 runs.
TEST(LeakDetector, ExactCountersGrowingWithEveryCallLeakInThreeRuns) {
  const LeakDetector detector(settingsWith(10));
  Assessment last;
  const auto decisions = decisionsFor(
      detector,
      [](int run) {
        const std::int64_t calls = callsForRun(run, kFirstCalls);
        return exactRun(run, calls, 32 * calls);
      },
      10, &last);
  EXPECT_EQ(decisions, continuesThen(2, Decision::Leak));
  EXPECT_TRUE(last.proportional);
  EXPECT_EQ(last.runs, 3);
}

TEST(LeakDetector, ExactCountersGrowingEveryFourthCallLeakInThreeRuns) {
  const LeakDetector detector(settingsWith(10));
  const auto decisions = decisionsFor(
      detector,
      [](int run) {
        const std::int64_t blocks = callsForRun(run, kFirstCalls) / 4;
        return exactRun(run, blocks, 64 * blocks);
      },
      10);
  EXPECT_EQ(decisions, continuesThen(2, Decision::Leak));
}

TEST(LeakDetector, ExactCountersOfACacheThatStopsAreClean) {
  const LeakDetector detector(settingsWith(10));
  const std::vector<std::int64_t> blocks = {200, 89, 0};
  const auto decisions = decisionsFor(
      detector,
      [&](int run) {
        const std::int64_t b = blocks[static_cast<std::size_t>(run - 1)];
        return exactRun(run, b, 256 * b);
      },
      3);
  EXPECT_EQ(decisions, continuesThen(1, Decision::Clean));
}

TEST(LeakDetector, SmallRisingNoiseIsNotProportionalGrowth) {
  // 1, 2, 3 blocks over 200, 300, 400 calls: rising, but per-call rates 1.5x apart.
  const LeakDetector detector(settingsWith(10));
  const std::vector<RunDelta> runs = {exactRun(1, 1, 32), exactRun(2, 2, 64), exactRun(3, 3, 96)};
  const Assessment assessment = detector.assess(runs);
  EXPECT_EQ(assessment.decision, Decision::Continue);
  EXPECT_FALSE(assessment.proportional);
  EXPECT_FALSE(detector.growsWithCalls(runs, Metric::Allocs));
}

TEST(LeakDetector, ProportionalRuleNeedsTheExactCounters) {
  // The same proportional growth measured by allocator statistics alone waits for
  // `retries` runs, as the seed design does.
  const LeakDetector detector(settingsWith(5));
  const auto decisions = decisionsFor(
      detector,
      [](int run) { return runWithOnly(run, Metric::HeapUsed, 32 * callsForRun(run, kFirstCalls)); },
      10);
  EXPECT_EQ(decisions, continuesThen(4, Decision::Leak));
}

}  // namespace psleak
