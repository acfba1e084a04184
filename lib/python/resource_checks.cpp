#include "python/resource_checks.h"

#include <chrono>
#include <optional>
#include <thread>
#include <set>

#include "checks/resource_diff.h"
#include "psleak/platform/native_threads.h"
#include "psleak/platform/open_fds.h"
#include "python/gil_release.h"
#include "python/resource_probes.h"

namespace psleak::py {
namespace {

// What is open and running at one moment, for the checks that are on.
struct ResourceSnapshot {
  std::optional<std::vector<platform::OpenFd>> fds;
  std::optional<std::vector<platform::NativeThread>> threads;
  std::vector<PythonThreadInfo> pythonThreads;  // also needed to tell native threads apart

  static ResourceSnapshot take(const CheckSelection& checks) {
    ResourceSnapshot snapshot;
    if (checks.enabled(CheckKind::Thread) || checks.enabled(CheckKind::PyThread)) {
      snapshot.pythonThreads = listPythonThreads();
    }
    if (checks.enabled(CheckKind::Thread)) snapshot.threads = platform::listNativeThreads();
    if (checks.enabled(CheckKind::Fd)) snapshot.fds = platform::listOpenFds();
    return snapshot;
  }
};

void append(std::vector<Finding>& to, std::vector<Finding> from) {
  for (Finding& finding : from) to.push_back(std::move(finding));
}

bool anyLeak(const std::vector<Finding>& findings) {
  for (const Finding& finding : findings) {
    if (finding.severity == Severity::Leak) return true;
  }
  return false;
}

// A thread the call started may still be finishing when the call returns: it may need
// the GIL to run its last Python code, and pthread_join() (so Thread.join()) returns a
// moment before the kernel removes the task from /proc/self/task. New threads, native and
// Python alike, are looked at again, with the GIL released, for up to this long; one
// that ends by itself within it is not a leak.
constexpr auto kThreadExitGrace = std::chrono::milliseconds(500);
constexpr auto kThreadPollInterval = std::chrono::milliseconds(5);

// Native and Python thread findings of `after` against `before`.
std::vector<Finding> threadFindings(const ResourceSnapshot& before, const ResourceSnapshot& after,
                                    const CheckSelection& checks) {
  std::vector<Finding> findings;
  if (before.threads && after.threads) {
    // Python threads are reported by the pythread check: tell them apart by native id.
    std::set<int> pythonThreadIds;
    for (const auto& threads : {before.pythonThreads, after.pythonThreads}) {
      for (const PythonThreadInfo& thread : threads) pythonThreadIds.insert(static_cast<int>(thread.nativeId));
    }
    append(findings, compareNativeThreads(*before.threads, *after.threads, pythonThreadIds));
  }
  if (checks.enabled(CheckKind::PyThread)) {
    append(findings, comparePythonThreads(before.pythonThreads, after.pythonThreads));
  }
  return findings;
}

// The thread findings once new threads have had the grace window to end.
std::vector<Finding> settledThreadFindings(const ResourceSnapshot& before, const ResourceSnapshot& after,
                                           const CheckSelection& checks) {
  std::vector<Finding> findings = threadFindings(before, after, checks);
  const auto deadline = std::chrono::steady_clock::now() + kThreadExitGrace;
  while (anyLeak(findings) && std::chrono::steady_clock::now() < deadline) {
    {
      GilReleased letThreadsFinish;
      std::this_thread::sleep_for(kThreadPollInterval);
    }
    CheckSelection threadsOnly = checks;
    threadsOnly.set(CheckKind::Fd, false);
    findings = threadFindings(before, ResourceSnapshot::take(threadsOnly), checks);
  }
  return findings;
}

}  // namespace

std::vector<Finding> checkResourcesAroundOneCall(Workload& workload, const CheckSelection& checks) {
  workload.clearCaches();
  const ResourceSnapshot before = ResourceSnapshot::take(checks);
  std::optional<ResourceSnapshot> after;
  auto callOnce = [&] {
    workload.call(1);
    // Taken before the collection that ends the gc check, so that the collection's own
    // finalizers cannot hide a descriptor or thread the call left.
    after = ResourceSnapshot::take(checks);
  };

  std::vector<GarbageObject> garbage;
  if (checks.enabled(CheckKind::Gc)) {
    garbage = garbageLeftBy(callOnce);
  } else {
    callOnce();
  }

  std::vector<Finding> findings;
  if (before.fds) append(findings, compareFds(*before.fds, *after->fds));
  if (checks.enabled(CheckKind::Thread) || checks.enabled(CheckKind::PyThread)) {
    append(findings, settledThreadFindings(before, *after, checks));
  }
  if (checks.enabled(CheckKind::Gc)) {
    append(findings, judgeGarbage(garbage, checks.strict(CheckKind::Gc)));
  }
  return findings;
}

std::vector<Finding> checkRefcounts(Workload& workload, const ResolvedTarget& target,
                                    std::int64_t calls) {
  const RefcountProbe probe(target);
  const std::int64_t firstCalls = calls;
  const std::int64_t secondCalls = 2 * calls;

  workload.clearCaches();
  const std::vector<std::int64_t> start = probe.read();
  workload.call(firstCalls);
  workload.clearCaches();
  const std::vector<std::int64_t> afterFirst = probe.read();
  workload.call(secondCalls);
  workload.clearCaches();
  const std::vector<std::int64_t> afterSecond = probe.read();

  std::vector<RefcountSeries> series;
  for (std::size_t i = 0; i < probe.names().size(); ++i) {
    series.push_back({probe.names()[i], start[i], afterFirst[i], afterSecond[i]});
  }
  return judgeRefcounts(series, firstCalls, secondCalls);
}

namespace {

bool refcountsNeedAnotherRun(const RefcountsAtRuns& counts) {
  return counts.calls.size() == 1 && counts.reads[1] != counts.reads[0];
}

bool descriptorsNeedAnotherRun(const DescriptorsAtRuns& descriptors) {
  if (descriptors.calls.empty() || descriptors.calls.size() >= kDescriptorRuns) return false;
  // Every run so far must have added descriptors for the count to be worth following.
  for (std::size_t k = 1; k < descriptors.counts.size(); ++k) {
    if (descriptors.counts[k] <= descriptors.counts[k - 1]) return false;
  }
  return true;
}

}  // namespace

void completeRunsForCounts(Workload& workload, RefcountsAtRuns* refcounts, DescriptorsAtRuns* descriptors,
                           const std::function<std::int64_t(int)>& callsOfRun) {
  for (;;) {
    const bool forRefcounts = refcounts && refcountsNeedAnotherRun(*refcounts);
    const bool forDescriptors = descriptors && descriptorsNeedAnotherRun(*descriptors);
    if (!forRefcounts && !forDescriptors) return;
    const std::size_t done = refcounts ? refcounts->calls.size() : descriptors->calls.size();
    const std::int64_t calls = callsOfRun(static_cast<int>(done) + 1);
    workload.call(calls);
    workload.clearCaches();
    if (refcounts) {
      refcounts->reads.push_back(refcounts->probe.read());
      refcounts->calls.push_back(calls);
    }
    if (descriptors) descriptors->countAfterRun(calls);
  }
}

std::vector<Finding> judgeRefcountsAtRuns(const RefcountsAtRuns& counts) {
  if (counts.calls.size() < 2 || counts.reads.size() != counts.calls.size() + 1) return {};
  const std::size_t last = counts.calls.size();
  std::vector<RefcountSeries> series;
  for (std::size_t i = 0; i < counts.probe.names().size(); ++i) {
    series.push_back({counts.probe.names()[i], counts.reads[last - 2][i], counts.reads[last - 1][i],
                      counts.reads[last][i]});
  }
  return judgeRefcounts(series, counts.calls[last - 2], counts.calls[last - 1]);
}

std::vector<Finding> judgeDescriptorsAtRuns(const DescriptorsAtRuns& descriptors) {
  const std::size_t runs = descriptors.calls.size();
  if (runs < kDescriptorRuns || descriptors.counts.size() != runs + 1) return {};
  const auto firstRun = static_cast<std::ptrdiff_t>(runs - kDescriptorRuns);
  return judgeDescriptorsOverRuns({descriptors.counts.begin() + firstRun, descriptors.counts.end()},
                                  {descriptors.calls.begin() + firstRun, descriptors.calls.end()},
                                  descriptors.before, platform::listOpenFds());
}

bool exhaustsResources(const std::vector<Finding>& findings) {
  for (const Finding& finding : findings) {
    if (finding.severity != Severity::Leak) continue;
    if (finding.kind == CheckKind::Fd || finding.kind == CheckKind::Thread ||
        finding.kind == CheckKind::PyThread) {
      return true;
    }
  }
  return false;
}

}  // namespace psleak::py
