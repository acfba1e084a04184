#pragma once
// The C interface of psleak's allocator hooks (platform/linux/hooks/).
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

enum { kPsleakMaxTraceFrames = 32, kPsleakMaxPythonFrames = 16 };

// A Python frame as recorded inside the hook: the code object (kept alive by whoever
// registered the reader until the trace is drained) and the line being executed.
struct PsleakPythonFrame {
  const void* code;
  int line;
};

struct PsleakTracedAllocation {
  uintptr_t address;
  size_t size;
  int frameCount;
  int pythonFrameCount;
  uintptr_t frames[kPsleakMaxTraceFrames];  // return addresses, innermost first
  struct PsleakPythonFrame pythonFrames[kPsleakMaxPythonFrames];  // innermost first
};

// Fills `out` with up to `max` Python frames of the calling thread, innermost first,
// and returns how many. Called inside malloc: must not allocate or take locks.
typedef int (*PsleakPythonFramesReader)(struct PsleakPythonFrame* out, int max);

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
// Sets (or, with NULL, clears) the reader of Python frames used while recording.
void psleak_hooks_set_python_frames_reader(PsleakPythonFramesReader reader);
// The stack unwinder tracing uses: "libunwind" or "backtrace" (see stack_unwinder.cpp).
const char* psleak_hooks_unwinder(void);
// Stops recording; the table keeps what is still live.
void psleak_hooks_trace_stop(void);
// Visits every recorded allocation still live; returns how many could not be recorded
// because the table was full. Then frees the table.
size_t psleak_hooks_trace_drain(void (*visit)(const struct PsleakTracedAllocation*, void*),
                                void* context);

#ifdef __cplusplus
}
#endif
