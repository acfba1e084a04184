#pragma once
// `--trace`: one extra run with allocation stacks recorded by psleak's hooks; what is
// still live at its end, grouped by call stack, is where the memory goes.

#include <cstdint>

#include "report/trace_report.h"
#include "runner/memory_check.h"
#include "runner/progress.h"

namespace psleak {

inline constexpr std::size_t kTraceCapacity = std::size_t{1} << 18;

// Clears caches, calls the workload `calls` times with stacks recorded, clears caches
// again, and returns the `top` sites holding the most live bytes. Throws InternalError
// when the hooks are absent (not the psleak executable, or PSLEAK_NO_HOOKS) or the
// trace table cannot be mapped. `progress` (optional) is told when symbolization starts.
TraceReport traceLiveAllocations(Workload& workload, std::int64_t calls, std::size_t top,
                                 Progress* progress = nullptr);

}  // namespace psleak
