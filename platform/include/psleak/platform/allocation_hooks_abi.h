#pragma once
// The C interface of psleak's allocator hooks (platform/linux/malloc_hooks.cpp).
//
// The hooks are linked into the psleak executable only. Everything else reaches them
// through these functions, declared weak by the reader (allocation_counters.cpp), so
// that code linked without the hooks (the Python extension module) sees them absent.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct PsleakAllocationCounters {
  int64_t liveBlocks;   // malloc-family blocks allocated and not yet freed
  int64_t liveBytes;    // their usable sizes
  int64_t mappedBytes;  // anonymous mmap() bytes mapped and not yet unmapped
};

enum { kPsleakMaxTraceFrames = 32 };

struct PsleakTracedAllocation {
  uintptr_t address;
  size_t size;
  int frameCount;
  uintptr_t frames[kPsleakMaxTraceFrames];  // return addresses, innermost first
};

// Reads the live counters (a consistent-enough sum: exact whenever no other thread
// allocates during the read).
void psleak_hooks_read(struct PsleakAllocationCounters* counters);

// Turns counting on or off (on by default; PSLEAK_NO_HOOKS=1 in the environment turns
// it off at start-up). Off, the hooks only forward to the C library.
void psleak_hooks_set_counting(int enabled);
int psleak_hooks_counting(void);

// Starts recording the call stack of every allocation, in a table of `capacity` live
// allocations mapped outside the heap. Returns 0 if the table cannot be mapped.
int psleak_hooks_trace_start(size_t capacity);
// Stops recording; the table keeps what is still live.
void psleak_hooks_trace_stop(void);
// Visits every recorded allocation still live; returns how many could not be recorded
// because the table was full. Then frees the table.
size_t psleak_hooks_trace_drain(void (*visit)(const struct PsleakTracedAllocation*, void*),
                                void* context);

#ifdef __cplusplus
}
#endif
