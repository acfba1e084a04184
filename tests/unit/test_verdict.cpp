// Verdicts: their one-line messages, how findings combine into one, and exit codes.

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "report/format.h"
#include "report/report.h"

namespace psleak {
namespace {

RunDelta runOf(int run, std::int64_t calls) {
  RunDelta delta;
  delta.run = run;
  delta.calls = calls;
  return delta;
}

Assessment leakAssessment() {
  Assessment assessment;
  assessment.decision = Decision::Leak;
  assessment.runs = 10;
  assessment.growing = {{Metric::HeapUsed, 1024 * 1100, 1024.0}};
  return assessment;
}

TEST(Verdict, MemoryLeakMessageNamesRunsMetricAndPerCall) {
  const Verdict verdict = memoryLeakVerdict(leakAssessment(), false);
  EXPECT_EQ(verdict.status, VerdictStatus::Leak);
  EXPECT_EQ(verdict.kind, "memory");
  EXPECT_EQ(verdict.message, "memory kept increasing after 10 runs (heap +1.0 KiB/call)");
  ASSERT_EQ(verdict.growing.size(), 1u);
  EXPECT_EQ(verdict.growing[0].metric, Metric::HeapUsed);
  EXPECT_EQ(formatVerdictLine(verdict),
            "LEAK: memory kept increasing after 10 runs (heap +1.0 KiB/call)");
}

TEST(Verdict, MemoryLeakMessageListsEveryMetricAndHonoursRawBytes) {
  Assessment assessment = leakAssessment();
  assessment.growing.push_back({Metric::MmapUsed, 2048 * 1100, 2048.0});
  EXPECT_EQ(memoryLeakVerdict(assessment, false).message,
            "memory kept increasing after 10 runs (heap +1.0 KiB/call, mmap +2.0 KiB/call)");
  EXPECT_EQ(memoryLeakVerdict(assessment, true).message,
            "memory kept increasing after 10 runs (heap +1024/call, mmap +2048/call)");
}

TEST(Verdict, CleanMessageCountsRunsAndCalls) {
  std::vector<RunDelta> runs = {runOf(1, 200), runOf(2, 300), runOf(3, 400)};
  const Verdict verdict = cleanVerdict(runs);
  EXPECT_EQ(verdict.status, VerdictStatus::Clean);
  EXPECT_TRUE(verdict.kind.empty());
  EXPECT_EQ(formatVerdictLine(verdict), "OK: no leak (memory stable after 3 runs, 900 calls)");
  EXPECT_EQ(cleanVerdict({runOf(1, 200)}).message,
            "no leak (memory stable after 1 run, 200 calls)");
}

TEST(Verdict, ErrorLine) {
  const Verdict verdict = errorVerdict("target", "cannot import module 'nope'", "Traceback ...");
  EXPECT_EQ(verdict.status, VerdictStatus::Error);
  EXPECT_EQ(verdict.details, "Traceback ...");
  EXPECT_EQ(formatVerdictLine(verdict), "ERROR: cannot import module 'nope'");
}

TEST(Verdict, ExitCodes) {
  EXPECT_EQ(cleanVerdict({}).exitCode(), ExitCode::Clean);
  EXPECT_EQ(memoryLeakVerdict(leakAssessment(), false).exitCode(), ExitCode::Leak);
  EXPECT_EQ(errorVerdict("usage", "x").exitCode(), ExitCode::Usage);
  EXPECT_EQ(errorVerdict("target", "x").exitCode(), ExitCode::Target);
  EXPECT_EQ(errorVerdict("internal", "x").exitCode(), ExitCode::Internal);
  EXPECT_EQ(errorVerdict("something else", "x").exitCode(), ExitCode::Internal);
  EXPECT_EQ(static_cast<int>(ExitCode::Clean), 0);
  EXPECT_EQ(static_cast<int>(ExitCode::Leak), 1);
  EXPECT_EQ(static_cast<int>(ExitCode::Usage), 2);
  EXPECT_EQ(static_cast<int>(ExitCode::Target), 3);
  EXPECT_EQ(static_cast<int>(ExitCode::Internal), 4);
}

TEST(Verdict, MemoryLeakMessageNamesTheTwoMostTellingMetrics) {
  Assessment assessment = leakAssessment();
  assessment.growing = {{Metric::HeapTotal, 1, 1.0},
                        {Metric::Rss, 4096 * 1100, 4096.0},
                        {Metric::Uss, 4096 * 1100, 4096.0},
                        {Metric::HeapUsed, 1024 * 1100, 1024.0}};
  const Verdict verdict = memoryLeakVerdict(assessment, false);
  EXPECT_EQ(verdict.message,
            "memory kept increasing after 10 runs (heap +1.0 KiB/call, uss +4.0 KiB/call)");
  EXPECT_EQ(verdict.growing.size(), 4u);  // all of them, for the JSON
  EXPECT_EQ(verdict.kinds, (std::vector<std::string>{"memory"}));
}

TEST(Verdict, MemoryLeakFindingCarriesTheMessage) {
  const Finding finding = memoryLeakFinding(leakAssessment(), false);
  EXPECT_EQ(finding.kind, CheckKind::Memory);
  EXPECT_EQ(finding.severity, Severity::Leak);
  EXPECT_EQ(finding.message, memoryLeakVerdict(leakAssessment(), false).message);
}

Finding fdLeak() {
  return {CheckKind::Fd, Severity::Leak, "1 file descriptor left open by one call",
          {"fd 7 -> /dev/null"}};
}

Finding threadWarning() {
  return {CheckKind::Thread, Severity::Warning,
          "1 native thread running before the call ended during it", {"thread 42 'worker'"}};
}

TEST(ComposeVerdict, EveryLeakingKindNamedInOrderMemoryFirst) {
  const Assessment memory = leakAssessment();
  const std::vector<Finding> findings = {memoryLeakFinding(memory, false), threadWarning(),
                                         fdLeak(), fdLeak()};
  const Verdict verdict = composeVerdict(memory, {runOf(1, 200)}, findings);
  EXPECT_EQ(verdict.status, VerdictStatus::Leak);
  EXPECT_EQ(verdict.kind, "memory");
  EXPECT_EQ(verdict.kinds, (std::vector<std::string>{"memory", "fd"}));
  EXPECT_EQ(verdict.message,
            "memory kept increasing after 10 runs (heap +1.0 KiB/call); "
            "1 file descriptor left open by one call; 1 file descriptor left open by one call");
  ASSERT_EQ(verdict.growing.size(), 1u);
  EXPECT_EQ(verdict.exitCode(), ExitCode::Leak);
}

TEST(ComposeVerdict, ResourceLeakWithCleanMemory) {
  Assessment memory;
  memory.decision = Decision::Clean;
  memory.runs = 2;
  const Verdict verdict = composeVerdict(memory, {runOf(1, 200), runOf(2, 300)}, {fdLeak()});
  EXPECT_EQ(verdict.status, VerdictStatus::Leak);
  EXPECT_EQ(verdict.kind, "fd");
  EXPECT_EQ(verdict.message, "1 file descriptor left open by one call");
  EXPECT_TRUE(verdict.growing.empty());
}

TEST(ComposeVerdict, WarningsAloneAreClean) {
  Assessment memory;
  memory.decision = Decision::Clean;
  memory.runs = 2;
  const Verdict verdict =
      composeVerdict(memory, {runOf(1, 200), runOf(2, 300)}, {threadWarning()});
  EXPECT_EQ(verdict.status, VerdictStatus::Clean);
  EXPECT_EQ(verdict.message, "no leak (memory stable after 2 runs, 500 calls)");
  EXPECT_TRUE(verdict.kinds.empty());
  EXPECT_EQ(verdict.exitCode(), ExitCode::Clean);
}

TEST(ComposeVerdict, WithoutTheMemoryCheck) {
  const Verdict clean = composeVerdict(std::nullopt, {}, {});
  EXPECT_EQ(clean.status, VerdictStatus::Clean);
  EXPECT_EQ(clean.message, "no leak");
  const Verdict leak = composeVerdict(std::nullopt, {}, {fdLeak()});
  EXPECT_EQ(leak.status, VerdictStatus::Leak);
  EXPECT_EQ(leak.kinds, (std::vector<std::string>{"fd"}));
}

}  // namespace
}  // namespace psleak
