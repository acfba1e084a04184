// psleak's allocator hooks: the psleak executable defines the malloc family (here) and
// mmap/munmap/mremap (mapping_hooks.cpp), so every allocation the interpreter and any
// extension module make passes through psleak (symbol interposition: the executable's
// definitions come first in the lookup scope, and glibc routes its own internal malloc
// calls through them too).
//
// Rules for every file in this directory, because it runs inside malloc:
// - never allocate, never log, never call Python, never take a lock malloc may take;
// - correct before main (all state is constant-initialized), in every thread, at thread
//   exit (thread-locals are trivially destructible) and across fork (pthread_atfork);
// - no recursion: the stack unwinder may allocate, so tracing is guarded per thread.
//
// The common case (a registered thread, counting, not tracing) is kept short: one
// compare of the thread's mode byte, the block's size from its header, two plain adds
// to thread-local counters. Everything else is in the out-of-line slow paths.

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hook_common.h"
#include "live_counters.h"
#include "mapping_hooks.h"
#include "psleak/platform/allocation_hooks_abi.h"
#include "real_allocator.h"
#include "trace_table.h"

namespace psleak::hooks {

std::atomic<std::uint8_t> gMode{kModeCounting};

namespace {

__attribute__((noinline)) void recordAllocationSlow(void* p) {
  const std::uint8_t m = currentMode();
  if (!p || !(m & kModeCounting) || isBootstrapBlock(p)) return;
  const size_t size = countedSize(p);
  count(1, static_cast<int64_t>(size));
  if (m & kModeRecording) traceAllocation(p, size - kCountedOverheadPerBlock);
}

__attribute__((noinline)) void recordReleaseSlow(void* p) {
  const std::uint8_t m = currentMode();
  if (!p || !(m & kModeCounting) || isBootstrapBlock(p)) return;
  count(-1, -static_cast<int64_t>(countedSize(p)));
  if (m & kModeTraceTable) traceForget(p);
}

inline void recordAllocation(void* p) {
  if (__builtin_expect(onFastPath() && p != nullptr && !isBootstrapBlock(p), 1)) {
    countFast(1, static_cast<int64_t>(countedSize(p)));
  } else {
    recordAllocationSlow(p);
  }
}

// A free is recorded before the C library sees it: once freed, the address can be
// handed to another thread.
inline void recordRelease(void* p) {
  if (__builtin_expect(onFastPath() && p != nullptr && !isBootstrapBlock(p), 1)) {
    countFast(-1, -static_cast<int64_t>(countedSize(p)));
  } else {
    recordReleaseSlow(p);
  }
}

void lockAllForFork() {
  lockTraceForFork();
  lockMappingsForFork();
  lockCountersForFork();
}
void unlockAllInParent() {
  unlockCountersAfterFork();
  unlockMappingsAfterFork();
  unlockTraceAfterFork();
}
void unlockAllInChild() {
  // Only the forking thread lives on in the child: the others' counters are folded into
  // the shared totals before their memory can be reused by the child's own threads.
  forgetOtherThreadsInChild();
  unlockAllInParent();
}

__attribute__((constructor)) void initHooks() {
  // A child forked while another thread held a lock must not inherit it held.
  pthread_atfork(lockAllForFork, unlockAllInParent, unlockAllInChild);
  const char* off = getenv("PSLEAK_NO_HOOKS");
  if (off && off[0] && !(off[0] == '0' && off[1] == '\0')) {
    changeMode(0, kModeCounting);
  }
}

}  // namespace
}  // namespace psleak::hooks

using namespace psleak::hooks;

PSLEAK_HOOK void* malloc(size_t size) {
  void* p = realMalloc(size);
  recordAllocation(p);
  return p;
}

PSLEAK_HOOK void free(void* p) {
  recordRelease(p);
  realFree(p);
}

PSLEAK_HOOK void* calloc(size_t count, size_t size) {
  void* p = realCalloc(count, size);
  recordAllocation(p);
  return p;
}

PSLEAK_HOOK void* realloc(void* old, size_t size) {
  if (!old) return malloc(size);
  // Account for the old block only once the outcome is known: a failed realloc leaves
  // it allocated. Tracing drops it first, since a successful one frees the address.
  const std::uint8_t m = currentMode();
  const bool counted = (m & kModeCounting) && !isBootstrapBlock(old);
  const size_t oldSize = counted ? countedSize(old) : 0;
  const bool wasTraced = counted && (m & kModeTraceTable) && traceForget(old);
  void* p = realRealloc(old, size);
  if (!counted) {
    recordAllocation(p);  // a bootstrap block moved into a real one
    return p;
  }
  if (p || size == 0) {  // moved, resized in place, or (size 0) freed
    count(-1, -static_cast<int64_t>(oldSize));
    recordAllocation(p);
  } else if (wasTraced) {
    traceAllocation(old, oldSize - kCountedOverheadPerBlock);  // failed: the old block lives on
  }
  return p;
}

PSLEAK_HOOK void* reallocarray(void* old, size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(old, count * size);
}

PSLEAK_HOOK void* memalign(size_t alignment, size_t size) {
  void* p = realMemalign(alignment, size);
  recordAllocation(p);
  return p;
}

PSLEAK_HOOK void* aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }

PSLEAK_HOOK int posix_memalign(void** out, size_t alignment, size_t size) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0) {
    return EINVAL;
  }
  void* p = realMemalign(alignment, size);
  if (!p) return ENOMEM;
  recordAllocation(p);
  *out = p;
  return 0;
}

PSLEAK_HOOK void* valloc(size_t size) {
  void* p = realValloc(size);
  recordAllocation(p);
  return p;
}

PSLEAK_HOOK void* pvalloc(size_t size) {
  void* p = realPvalloc(size);
  recordAllocation(p);
  return p;
}

// =================================================================================
// The counters' C interface (the trace's is in trace_table.cpp).

PSLEAK_HOOK void psleak_hooks_read(PsleakAllocationCounters* counters) {
  const CounterTotals totals = sumCounters();
  counters->liveBlocks = totals.blocks;
  counters->liveBytes =
      totals.bytes - totals.blocks * static_cast<int64_t>(kCountedOverheadPerBlock);
  counters->mappedBytes = mappedBytes();
}

PSLEAK_HOOK void psleak_hooks_set_counting(int enabled) {
  if (enabled) {
    changeMode(kModeCounting, 0);
  } else {
    changeMode(0, kModeCounting);
  }
}

PSLEAK_HOOK int psleak_hooks_counting(void) { return counting() ? 1 : 0; }
