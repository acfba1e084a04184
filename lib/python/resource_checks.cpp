#include "python/resource_checks.h"

#include <chrono>
#include <optional>
#include <thread>
#include <set>

#include "checks/resource_diff.h"
#include "psleak/platform/native_threads.h"
#include "psleak/platform/open_fds.h"
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

// pthread_join() (and so Thread.join()) returns once the thread has finished its work,
// a moment before the kernel removes its task from /proc/self/task. New native threads
// are looked at again for up to this long before they are reported.
constexpr auto kThreadExitGrace = std::chrono::milliseconds(200);
constexpr auto kThreadPollInterval = std::chrono::milliseconds(5);

std::vector<Finding> settledThreadFindings(const std::vector<platform::NativeThread>& before,
                                           const std::set<int>& pythonThreadIds) {
  const auto deadline = std::chrono::steady_clock::now() + kThreadExitGrace;
  std::vector<Finding> findings =
      compareNativeThreads(before, platform::listNativeThreads(), pythonThreadIds);
  while (anyLeak(findings) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kThreadPollInterval);
    findings = compareNativeThreads(before, platform::listNativeThreads(), pythonThreadIds);
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
  if (before.threads) {
    std::set<int> pythonThreadIds;
    for (const auto& threads : {before.pythonThreads, after->pythonThreads}) {
      for (const PythonThreadInfo& thread : threads) pythonThreadIds.insert(static_cast<int>(thread.nativeId));
    }
    std::vector<Finding> threads = compareNativeThreads(*before.threads, *after->threads, pythonThreadIds);
    if (anyLeak(threads)) threads = settledThreadFindings(*before.threads, pythonThreadIds);
    append(findings, std::move(threads));
  }
  if (checks.enabled(CheckKind::PyThread)) {
    append(findings, comparePythonThreads(before.pythonThreads, after->pythonThreads));
  }
  if (checks.enabled(CheckKind::Gc)) append(findings, judgeGarbage(garbage));
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
