// Judgements of resource snapshots: fds, native and Python threads, garbage, refcounts.

#include "checks/resource_diff.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace psleak {
namespace {

using Items = std::vector<std::string>;
using platform::NativeThread;
using platform::OpenFd;

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

const std::vector<OpenFd> kStdFds = {{0, "/dev/pts/0"}, {1, "/dev/pts/0"}, {2, "/dev/pts/0"}};

TEST(CompareFds, SameDescriptorsFindNothing) {
  EXPECT_TRUE(compareFds(kStdFds, kStdFds).empty());
  EXPECT_TRUE(compareFds({}, {}).empty());
}

TEST(CompareFds, NewDescriptorsAreALeak) {
  std::vector<OpenFd> after = kStdFds;
  after.push_back({7, "/dev/null"});
  const auto one = compareFds(kStdFds, after);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].kind, CheckKind::Fd);
  EXPECT_EQ(one[0].severity, Severity::Leak);
  EXPECT_EQ(one[0].message, "1 file descriptor left open by one call");
  EXPECT_EQ(one[0].items, (Items{"fd 7 -> /dev/null"}));

  after.push_back({8, "socket:[48121]"});
  const auto two = compareFds(kStdFds, after);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].message, "2 file descriptors left open by one call");
  EXPECT_EQ(two[0].items, (Items{"fd 7 -> /dev/null", "fd 8 -> socket:[48121]"}));
}

TEST(CompareFds, ClosedDescriptorsAreAWarning) {
  const std::vector<OpenFd> before = {{0, "/dev/pts/0"}, {5, "/tmp/a"}, {6, "/tmp/b"}};
  const auto findings = compareFds(before, {{0, "/dev/pts/0"}});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::Warning);
  EXPECT_EQ(findings[0].message, "2 file descriptors open before the call were closed by it");
  EXPECT_EQ(findings[0].items, (Items{"fd 5 -> /tmp/a", "fd 6 -> /tmp/b"}));
  const auto one = compareFds(before, {{0, "/dev/pts/0"}, {5, "/tmp/a"}});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(startsWith(one[0].message, "1 file descriptor open before the call")) << one[0].message;
}

TEST(CompareFds, ReusedNumberForAnotherFileIsBoth) {
  const auto findings = compareFds({{5, "/tmp/a"}}, {{5, "/tmp/b"}});
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].severity, Severity::Leak);
  EXPECT_EQ(findings[0].items, (Items{"fd 5 -> /tmp/b"}));
  EXPECT_EQ(findings[1].severity, Severity::Warning);
  EXPECT_EQ(findings[1].items, (Items{"fd 5 -> /tmp/a"}));
}

const std::vector<NativeThread> kMainOnly = {{100, "psleak"}};

TEST(CompareNativeThreads, NewThreadIsALeak) {
  const auto findings = compareNativeThreads(kMainOnly, {{100, "psleak"}, {142, "worker"}}, {});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, CheckKind::Thread);
  EXPECT_EQ(findings[0].severity, Severity::Leak);
  EXPECT_EQ(findings[0].message, "1 native thread left running by one call");
  EXPECT_EQ(findings[0].items, (Items{"thread 142 'worker'"}));
}

TEST(CompareNativeThreads, PythonThreadsAreLeftToTheirOwnCheck) {
  EXPECT_TRUE(compareNativeThreads(kMainOnly, {{100, "psleak"}, {142, "python3"}}, {142}).empty());
  EXPECT_TRUE(compareNativeThreads({{100, "psleak"}, {142, "python3"}}, kMainOnly, {142}).empty());
}

TEST(CompareNativeThreads, EndedThreadIsAWarning) {
  const auto findings =
      compareNativeThreads({{100, "psleak"}, {120, "pool-1"}, {121, "pool-2"}}, kMainOnly, {});
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::Warning);
  EXPECT_EQ(findings[0].message, "2 native threads running before the call ended during it");
  EXPECT_EQ(findings[0].items, (Items{"thread 120 'pool-1'", "thread 121 'pool-2'"}));
}

TEST(ComparePythonThreads, ByIdentWithTheirRepr) {
  const std::vector<PythonThreadInfo> before = {{1, 100, "<_MainThread(MainThread, started 1)>"}};
  std::vector<PythonThreadInfo> after = before;
  after.push_back({2, 142, "<Thread(Thread-1, started 2)>"});
  after.push_back({3, 143, "<Thread(Thread-2, started 3)>"});
  const auto leak = comparePythonThreads(before, after);
  ASSERT_EQ(leak.size(), 1u);
  EXPECT_EQ(leak[0].kind, CheckKind::PyThread);
  EXPECT_EQ(leak[0].severity, Severity::Leak);
  EXPECT_EQ(leak[0].message, "2 Python threads started by one call and not joined");
  EXPECT_EQ(leak[0].items,
            (Items{"<Thread(Thread-1, started 2)>", "<Thread(Thread-2, started 3)>"}));

  const auto ended = comparePythonThreads(after, before);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].severity, Severity::Warning);
  EXPECT_TRUE(comparePythonThreads(after, after).empty());
}

TEST(JudgeGarbage, CountsPerTypeInOrderOfFirstAppearance) {
  EXPECT_TRUE(judgeGarbage({}, true).empty());
  const auto findings = judgeGarbage({{"leakfix_py.Node", "<Node 1>"},
                                      {"dict", "{'self': <Node 1>}"},
                                      {"leakfix_py.Node", "<Node 2>"}},
                                     true);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, CheckKind::Gc);
  EXPECT_EQ(findings[0].severity, Severity::Leak);
  EXPECT_TRUE(startsWith(findings[0].message, "3 objects left in reference cycles by one call"))
      << findings[0].message;
  EXPECT_EQ(findings[0].items,
            (Items{"2 x leakfix_py.Node: <Node 1>", "1 x dict: {'self': <Node 1>}"}));
}

TEST(JudgeGarbage, AtMostTenTypesListed) {
  std::vector<GarbageObject> garbage;
  for (int i = 0; i < 13; ++i) garbage.push_back({"T" + std::to_string(i), "r"});
  const auto findings = judgeGarbage(garbage, true);
  ASSERT_EQ(findings.size(), 1u);
  ASSERT_EQ(findings[0].items.size(), 11u);
  EXPECT_EQ(findings[0].items[9], "1 x T9: r");
  EXPECT_TRUE(startsWith(findings[0].items[10], "... and 3 more")) << findings[0].items[10];
}

TEST(JudgeGarbage, NotStrictIsAWarningThatSaysHowToMakeItAFailure) {
  const auto findings = judgeGarbage({{"list", "[[...]]"}}, false);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::Warning);
  EXPECT_NE(findings[0].message.find("--strict gc"), std::string::npos) << findings[0].message;
  EXPECT_EQ(findings[0].items, (Items{"1 x list: [[...]]"}));
}

// The standard descriptors plus `count` descriptors of /dev/null from fd 3 up.
std::vector<OpenFd> withDevNull(int count) {
  std::vector<OpenFd> fds = kStdFds;
  for (int i = 0; i < count; ++i) fds.push_back({3 + i, "/dev/null"});
  return fds;
}

const std::vector<std::int64_t> kRunCalls = {200, 300, 400};

TEST(JudgeDescriptorsOverRuns, RisingWithTheCallsIsALeakNamingWhatWasLeftOpen) {
  // One descriptor every 20th call over runs of 200, 300 and 400 calls.
  const auto findings = judgeDescriptorsOverRuns({3, 13, 28, 48}, kRunCalls, withDevNull(0), withDevNull(45));
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, CheckKind::Fd);
  EXPECT_EQ(findings[0].severity, Severity::Leak);
  EXPECT_EQ(findings[0].message,
            "open file descriptors kept growing with the calls (+10 in 200 calls, +15 in 300 calls, "
            "+20 in 400 calls: one every 20 calls)");
  ASSERT_EQ(findings[0].items.size(), 11u);  // ten, then how many more
  EXPECT_EQ(findings[0].items[0], "fd 3 -> /dev/null");
  EXPECT_EQ(findings[0].items[10], "... and 35 more");
}

TEST(JudgeDescriptorsOverRuns, APoolThatFillsOrAFlatCountIsNothing) {
  const auto judge = [](std::vector<std::int64_t> counts) {
    return judgeDescriptorsOverRuns(counts, kRunCalls, withDevNull(0), withDevNull(12));
  };
  EXPECT_TRUE(judge({3, 13, 15, 15}).empty());  // a pool filling, then full
  EXPECT_TRUE(judge({7, 7, 7, 7}).empty());     // the same descriptors every run
  EXPECT_TRUE(judge({3, 4, 5, 6}).empty());     // one more per run, whatever its calls
  EXPECT_TRUE(judge({3, 13, 21, 28}).empty());  // growth that falls
  // Counts that do not match their runs judge nothing.
  EXPECT_TRUE(judgeDescriptorsOverRuns({3, 13}, kRunCalls, withDevNull(0), withDevNull(10)).empty());
}

TEST(JudgeRefcounts, GrowingWithTheCallsIsALeak) {
  const auto findings = judgeRefcounts({{"argument 1 ([])", 10, 110, 310}}, 100, 200);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, CheckKind::Refcount);
  EXPECT_EQ(findings[0].severity, Severity::Leak);
  EXPECT_EQ(findings[0].message, "reference counts kept growing with the calls (1 object)");
  EXPECT_EQ(findings[0].items,
            (Items{"argument 1 ([]): +1.00 references/call (+100 in 100 calls, +200 in 200)"}));
}

TEST(JudgeRefcounts, SteadyOrOnceOnlyChangesAreNothing) {
  EXPECT_TRUE(judgeRefcounts({{"None", 50, 50, 50}}, 100, 200).empty());
  EXPECT_TRUE(judgeRefcounts({{"cached", 50, 51, 51}}, 100, 200).empty());
  EXPECT_TRUE(judgeRefcounts({{"same", 50, 60, 70}}, 100, 200).empty());
  EXPECT_TRUE(judgeRefcounts({{"late", 50, 50, 90}}, 100, 200).empty());
  EXPECT_TRUE(judgeRefcounts({}, 100, 200).empty());
}

TEST(JudgeRefcounts, FallingWithTheCallsIsAWarning) {
  const auto findings = judgeRefcounts(
      {{"None", 1000, 900, 700}, {"x", 5, 5, 5}, {"y", 10, 20, 40}}, 100, 200);
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].severity, Severity::Leak);
  EXPECT_EQ(findings[0].items.size(), 1u);
  EXPECT_EQ(findings[1].severity, Severity::Warning);
  EXPECT_TRUE(startsWith(findings[1].message, "reference counts kept falling with the calls (1 object)"))
      << findings[1].message;
  EXPECT_EQ(findings[1].items,
            (Items{"None: -1.00 references/call (-100 in 100 calls, -200 in 200)"}));
}

}  // namespace
}  // namespace psleak
