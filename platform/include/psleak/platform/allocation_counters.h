#pragma once
// Exact live-allocation counts and allocation stacks from psleak's own allocator hooks,
// present only in the psleak executable (see allocation_hooks_abi.h).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace psleak::platform {

struct AllocationCounters {
  std::int64_t liveBlocks = 0;   // malloc-family blocks not yet freed
  std::int64_t liveBytes = 0;    // their usable sizes
  std::int64_t mappedBytes = 0;  // anonymous mmap() bytes not yet unmapped
};

// The counters, or nothing when the hooks are not linked in or counting is off.
std::optional<AllocationCounters> readAllocationCounters() noexcept;

// Whether the hooks are linked in and counting.
bool allocationHooksActive() noexcept;

// Stops the hooks counting (they keep forwarding to the C library), so that psleak
// measures with allocator statistics and /proc alone. Call before the interpreter starts.
void stopAllocationCounting() noexcept;

// A self-test of the hooks, for start-up (one thread, before any interpreter): a malloc
// and a free must move the live counters. They stay still when something else serves
// malloc (valgrind replaces it, so the executable's own definitions never run), and a
// leak would read as none. Then counting is stopped, so that psleak measures with the
// allocator's statistics as --no-hooks does, and the reason is returned (and kept for
// allocationCountingProblem). "" when the hooks count, are absent or are off.
std::string verifyAllocationCounting();

// What verifyAllocationCounting found wrong, or "".
const std::string& allocationCountingProblem() noexcept;

// A Python frame as the hooks recorded it: a code object (kept alive by the recorder)
// and the line it was executing.
struct PythonFrameRef {
  const void* code = nullptr;
  int line = 0;
  bool operator<(const PythonFrameRef& other) const {
    return code != other.code ? code < other.code : line < other.line;
  }
};

struct TracedAllocation {
  std::size_t size = 0;
  std::vector<std::uintptr_t> frames;        // return addresses, innermost first
  std::vector<PythonFrameRef> pythonFrames;  // innermost first
};

// Records the stack of every allocation from now on. False when the hooks are absent
// or the table cannot be mapped.
bool startAllocationTrace(std::size_t capacity);

struct AllocationTrace {
  std::vector<TracedAllocation> live;  // allocations made while tracing, still live
  std::size_t dropped = 0;             // not recorded: the table was full
};

// The native unwinder tracing uses: "libunwind" or "backtrace"; empty without hooks.
std::string allocationTraceUnwinder();

// Stops tracing and returns what was recorded and is still live.
AllocationTrace finishAllocationTrace();

}  // namespace psleak::platform
