#pragma once
// The resource checks of `psleak run`: one call with descriptors, threads and garbage
// compared around it; then batches of calls with reference counts compared around them.

#include <cstdint>
#include <vector>

#include "checks/check_kind.h"
#include "checks/finding.h"
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

// Judges the counts over the last two runs (the second larger, as runs grow). After a
// single run, counts that did not move at all are evidence enough; one that moved gets
// one more batch of `extraCalls` (more than run 1's) to tell growth with the calls from a
// one-off.
std::vector<Finding> judgeRefcountsAtRuns(Workload& workload, RefcountsAtRuns& counts,
                                          std::int64_t extraCalls);

// True for the findings that make repeating the call unsafe: each call would leave one
// more descriptor or thread behind, until the process runs out of them.
bool exhaustsResources(const std::vector<Finding>& findings);

}  // namespace psleak::py
