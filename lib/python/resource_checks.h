#pragma once
// The resource checks of `psleak run`: one call with descriptors, threads and garbage
// compared around it; then batches of calls with reference counts compared around them.

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "checks/check_kind.h"
#include "checks/finding.h"
#include "psleak/platform/open_fds.h"
#include "python/target.h"
#include "python/resource_probes.h"
#include "runner/memory_check.h"

namespace psleak::py {

// Calls the target once with the selected fd/thread/pythread/gc checks around the call.
// Throws TargetError if the call fails.
std::vector<Finding> checkResourcesAroundOneCall(Workload& workload, const CheckSelection& checks);

// Calls the target `calls` times, then twice as many, reading reference counts before,
// between and after (caches cleared each time).
std::vector<Finding> checkRefcounts(Workload& workload, const ResolvedTarget& target,
                                    std::int64_t calls);

// Reference counts read at the boundaries of runs made anyway (the memory runs), so that
// the refcount check needs no calls of its own: `reads[0]` before the first run, and
// `reads[k]` after run k, which made `calls[k - 1]` calls.
struct RefcountsAtRuns {
  explicit RefcountsAtRuns(const ResolvedTarget& target) : probe(target) {}
  RefcountProbe probe;
  std::vector<std::vector<std::int64_t>> reads;
  std::vector<std::int64_t> calls;
};

// Open descriptors counted at the boundaries of the same runs: `counts[0]` before the
// first run, `counts[k]` after run k, which made `calls[k - 1]` calls; `before` lists
// them before the runs, to name what the runs left open. A descriptor left by some
// calls only (one in 20) escapes the check around one call, and the memory runs count
// bytes, not descriptors. Room for every count is made up front: reading one between
// runs allocates nothing, which the allocator's figures would see.
struct DescriptorsAtRuns {
  DescriptorsAtRuns(std::vector<platform::OpenFd> openBefore, std::size_t maxRuns)
      : before(std::move(openBefore)) {
    counts.reserve(maxRuns + 1);
    calls.reserve(maxRuns);
  }
  void countBeforeRuns() { counts.push_back(platform::countOpenFds()); }
  void countAfterRun(std::int64_t callsOfRun) {
    counts.push_back(platform::countOpenFds());
    calls.push_back(callsOfRun);
  }
  std::vector<platform::OpenFd> before;
  std::vector<std::int64_t> counts;
  std::vector<std::int64_t> calls;
};

// Runs a descriptor count needs to be judged: it must rise in each, more each time.
inline constexpr std::size_t kDescriptorRuns = 3;

// When the memory runs ended too soon for the counts read at their boundaries, makes
// the runs that follow (run k makes `callsOfRun(k)` calls, which is called just before
// it), reading both after each:
// up to 2 runs when reference counts moved in a single one (counts that did not move
// in a whole run are evidence enough), up to kDescriptorRuns when the descriptor count
// moved. Either may be null.
void completeRunsForCounts(Workload& workload, RefcountsAtRuns* refcounts, DescriptorsAtRuns* descriptors,
                           const std::function<std::int64_t(int)>& callsOfRun);

// Judges the reference counts over the last two runs (the second larger, as runs grow).
std::vector<Finding> judgeRefcountsAtRuns(const RefcountsAtRuns& counts);

// Judges the descriptor count over the last kDescriptorRuns runs, naming what is open
// now that was not before the runs.
std::vector<Finding> judgeDescriptorsAtRuns(const DescriptorsAtRuns& descriptors);

// True for the findings that make repeating the call unsafe: each call would leave one
// more descriptor or thread behind, until the process runs out of them.
bool exhaustsResources(const std::vector<Finding>& findings);

}  // namespace psleak::py
