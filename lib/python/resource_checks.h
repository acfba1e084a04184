#pragma once
// The resource checks of `psleak run`: one call with descriptors, threads and garbage
// compared around it; then batches of calls with reference counts compared around them.

#include <cstdint>
#include <vector>

#include "checks/check_kind.h"
#include "checks/finding.h"
#include "python/target.h"
#include "runner/memory_check.h"

namespace psleak::py {

// Calls the target once with the selected fd/thread/pythread/gc checks around the call.
// Throws TargetError if the call fails.
std::vector<Finding> checkResourcesAroundOneCall(Workload& workload, const CheckSelection& checks);

// Calls the target `calls` times, then twice as many, reading reference counts before,
// between and after (caches cleared each time).
std::vector<Finding> checkRefcounts(Workload& workload, const ResolvedTarget& target,
                                    std::int64_t calls);

// True for the findings that make repeating the call unsafe: each call would leave one
// more descriptor or thread behind, until the process runs out of them.
bool exhaustsResources(const std::vector<Finding>& findings);

}  // namespace psleak::py
