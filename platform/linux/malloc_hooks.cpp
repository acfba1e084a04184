// psleak's allocator hooks: the psleak executable defines the malloc family and
// mmap/munmap/mremap, so every allocation the interpreter and any extension module make
// passes through here (symbol interposition: the executable's definitions come first in
// the lookup scope, and glibc routes its own internal malloc calls through it too).
//
// Rules for everything in this file, because it runs inside malloc:
// - never allocate, never log, never call Python, never take a lock malloc may take;
// - correct before main (all state is constant-initialized), in every thread, at thread
//   exit (thread-locals are trivially destructible) and across fork (pthread_atfork);
// - no recursion: the stack unwinder may allocate, so tracing is guarded per thread.
// Only <atomic>, libc and the C ABI header: no fmt, spdlog, JSON or Python here.

#include <errno.h>
#include <execinfo.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "psleak/platform/allocation_hooks_abi.h"

#define PSLEAK_HOOK extern "C" __attribute__((visibility("default")))
#define PSLEAK_TLS __attribute__((tls_model("initial-exec"))) thread_local

namespace {

// ---------------------------------------------------------------------------------
// The C library's own entry points.
#if defined(__GLIBC__)
extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* __libc_valloc(size_t);
void* __libc_pvalloc(size_t);
}
inline void* realMalloc(size_t n) { return __libc_malloc(n); }
inline void realFree(void* p) { __libc_free(p); }
inline void* realCalloc(size_t n, size_t s) { return __libc_calloc(n, s); }
inline void* realRealloc(void* p, size_t n) { return __libc_realloc(p, n); }
inline void* realMemalign(size_t a, size_t n) { return __libc_memalign(a, n); }
inline void* realValloc(size_t n) { return __libc_valloc(n); }
inline void* realPvalloc(size_t n) {
  return __libc_pvalloc(n);
}
inline bool isBootstrapBlock(const void*) { return false; }
#else
// Another C library: find the next definitions with dlsym. dlsym itself may allocate,
// so allocations made while resolving are served from a small static pool that free()
// recognises and never returns to the C library.
}  // namespace
#include <dlfcn.h>
namespace {
using MallocFn = void* (*)(size_t);
using FreeFn = void (*)(void*);
using CallocFn = void* (*)(size_t, size_t);
using ReallocFn = void* (*)(void*, size_t);
using MemalignFn = void* (*)(size_t, size_t);

alignas(64) unsigned char gBootstrapPool[64 * 1024];
std::atomic<size_t> gBootstrapUsed{0};
std::atomic<bool> gResolving{false};
MallocFn gMalloc = nullptr;
FreeFn gFree = nullptr;
CallocFn gCalloc = nullptr;
ReallocFn gRealloc = nullptr;
MemalignFn gMemalign = nullptr;

void* bootstrapAlloc(size_t n) {
  const size_t rounded = (n + 15) & ~size_t{15};
  const size_t offset = gBootstrapUsed.fetch_add(rounded);
  if (offset + rounded > sizeof gBootstrapPool) return nullptr;
  return gBootstrapPool + offset;
}
bool isBootstrapBlock(const void* p) {
  return p >= gBootstrapPool && p < gBootstrapPool + sizeof gBootstrapPool;
}
bool resolve() {
  if (gMalloc) return true;
  if (gResolving.exchange(true)) return false;  // dlsym is calling us: use the pool
  gFree = reinterpret_cast<FreeFn>(dlsym(RTLD_NEXT, "free"));
  gCalloc = reinterpret_cast<CallocFn>(dlsym(RTLD_NEXT, "calloc"));
  gRealloc = reinterpret_cast<ReallocFn>(dlsym(RTLD_NEXT, "realloc"));
  gMemalign = reinterpret_cast<MemalignFn>(dlsym(RTLD_NEXT, "memalign"));
  gMalloc = reinterpret_cast<MallocFn>(dlsym(RTLD_NEXT, "malloc"));
  return gMalloc != nullptr;
}
void* realMalloc(size_t n) { return resolve() ? gMalloc(n) : bootstrapAlloc(n); }
void realFree(void* p) {
  if (!isBootstrapBlock(p) && resolve()) gFree(p);
}
void* realCalloc(size_t n, size_t s) {
  if (resolve()) return gCalloc(n, s);
  if (s && n > SIZE_MAX / s) return nullptr;
  return bootstrapAlloc(n * s);  // the pool is zero-initialized and never reused
}
void* realRealloc(void* p, size_t n) { return resolve() ? gRealloc(p, n) : nullptr; }
void* realMemalign(size_t a, size_t n) { return resolve() ? gMemalign(a, n) : nullptr; }
void* realValloc(size_t n) { return realMemalign(static_cast<size_t>(sysconf(_SC_PAGESIZE)), n); }
void* realPvalloc(size_t n) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return realMemalign(page, (n + page - 1) & ~(page - 1));
}
#endif

#if defined(__GLIBC__)
// What malloc_usable_size() returns for a live block, read inline from the chunk header
// in front of it (the size word, whose low three bits are flags; IS_MMAPPED = 2): the
// call itself, and its look at the next chunk's header, were most of the hooks' cost.
// The layout is ptmalloc's since glibc 2.0; a glibc built with memory tagging, or with
// the malloc-check debugging hooks, would need malloc_usable_size instead.
inline size_t usableSize(void* p) {
  const size_t header = reinterpret_cast<const size_t*>(p)[-1];
  const size_t chunk = header & ~size_t{7};
  return (header & 2) ? chunk - 2 * sizeof(size_t) : chunk - sizeof(size_t);
}
#else
inline size_t usableSize(void* p) { return isBootstrapBlock(p) ? 0 : malloc_usable_size(p); }
#endif

// ---------------------------------------------------------------------------------
// A spin lock of our own: malloc never takes it, and it needs no initialization.
class SpinLock {
 public:
  void lock() {
    while (flag_.test_and_set(std::memory_order_acquire)) sched_yield();
  }
  void unlock() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

class SpinGuard {
 public:
  explicit SpinGuard(SpinLock& lock) : lock_(lock) { lock_.lock(); }
  ~SpinGuard() { lock_.unlock(); }

 private:
  SpinLock& lock_;
};

// ---------------------------------------------------------------------------------
// Live counters. Each thread owns a slot (claimed once, never released) and updates it
// with plain relaxed load+store: no locked instruction on the hot path. Threads beyond
// kSlots share one slot with atomic read-modify-write. A reader sums the slots.
struct alignas(64) CounterSlot {
  std::atomic<int64_t> blocks{0};
  std::atomic<int64_t> bytes{0};
};

constexpr unsigned kSlots = 1024;
CounterSlot gSlots[kSlots];
CounterSlot gSharedSlot;
std::atomic<unsigned> gNextSlot{0};
std::atomic<bool> gCounting{true};

PSLEAK_TLS CounterSlot* tSlot = nullptr;
PSLEAK_TLS bool tInTrace = false;

inline CounterSlot* mySlot() {
  CounterSlot* slot = tSlot;
  if (__builtin_expect(slot == nullptr, 0)) {
    const unsigned index = gNextSlot.fetch_add(1, std::memory_order_relaxed);
    slot = index < kSlots ? &gSlots[index] : &gSharedSlot;
    tSlot = slot;
  }
  return slot;
}

inline void bump(CounterSlot* slot, std::atomic<int64_t>& counter, int64_t delta) {
  if (slot == &gSharedSlot) {
    counter.fetch_add(delta, std::memory_order_relaxed);
  } else {
    counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
}

// ---------------------------------------------------------------------------------
// Tracing: the stack of every allocation made while it is on, in an open-addressing
// table keyed by address (linear probing, backward-shift deletion), mapped with the
// mmap system call so that it never touches the heap it describes.
struct TraceTable {
  uintptr_t* keys = nullptr;  // 0: empty
  PsleakTracedAllocation* records = nullptr;
  size_t capacity = 0;  // a power of two
  size_t used = 0;
  size_t dropped = 0;
};

SpinLock gTraceLock;
TraceTable gTrace;
std::atomic<bool> gTracing{false};    // recording new allocations (start until stop or drain)
std::atomic<bool> gTraceTable{false};  // a table exists (start until drain): frees leave it

void* mapPages(size_t bytes) {
  void* p = reinterpret_cast<void*>(
      syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  return p == MAP_FAILED ? nullptr : p;
}

inline size_t slotOf(uintptr_t key, size_t capacity) {
  return static_cast<size_t>((key >> 4) * 0x9E3779B97F4A7C15ull) & (capacity - 1);
}

void traceInsertLocked(const PsleakTracedAllocation& record) {
  TraceTable& t = gTrace;
  if (!t.keys) return;
  if ((t.used + 1) * 4 > t.capacity * 3) {
    ++t.dropped;
    return;
  }
  size_t i = slotOf(record.address, t.capacity);
  while (t.keys[i] != 0 && t.keys[i] != record.address) i = (i + 1) & (t.capacity - 1);
  if (t.keys[i] == 0) ++t.used;
  t.keys[i] = record.address;
  t.records[i] = record;
}

bool traceEraseLocked(uintptr_t key) {
  TraceTable& t = gTrace;
  if (!t.keys) return false;
  size_t i = slotOf(key, t.capacity);
  while (t.keys[i] != key) {
    if (t.keys[i] == 0) return false;
    i = (i + 1) & (t.capacity - 1);
  }
  // Backward shift: pull later entries of the probe run into the hole.
  size_t hole = i;
  size_t j = i;
  while (true) {
    j = (j + 1) & (t.capacity - 1);
    if (t.keys[j] == 0) break;
    const size_t home = slotOf(t.keys[j], t.capacity);
    const bool between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (between) continue;
    t.keys[hole] = t.keys[j];
    t.records[hole] = t.records[j];
    hole = j;
  }
  t.keys[hole] = 0;
  --t.used;
  return true;
}

void traceAllocation(void* p, size_t size) {
  if (tInTrace) return;  // the unwinder allocating: count it, do not trace it
  tInTrace = true;
  PsleakTracedAllocation record;
  record.address = reinterpret_cast<uintptr_t>(p);
  record.size = size;
  void* frames[kPsleakMaxTraceFrames];
  const int count = backtrace(frames, kPsleakMaxTraceFrames);
  record.frameCount = count;
  for (int i = 0; i < count; ++i) record.frames[i] = reinterpret_cast<uintptr_t>(frames[i]);
  {
    SpinGuard guard(gTraceLock);
    traceInsertLocked(record);
  }
  tInTrace = false;
}

bool traceFree(void* p) {
  SpinGuard guard(gTraceLock);
  return traceEraseLocked(reinterpret_cast<uintptr_t>(p));
}

// ---------------------------------------------------------------------------------
// Block accounting, shared by every function of the family. A free is recorded before
// the C library sees it: once freed, the address can be handed to another thread.
inline void recordAllocation(void* p) {
  if (!p || !gCounting.load(std::memory_order_relaxed)) return;
  const size_t size = usableSize(p);
  CounterSlot* slot = mySlot();
  bump(slot, slot->blocks, 1);
  bump(slot, slot->bytes, static_cast<int64_t>(size));
  if (__builtin_expect(gTracing.load(std::memory_order_relaxed), 0)) traceAllocation(p, size);
}

inline void recordRelease(void* p) {
  if (!p || !gCounting.load(std::memory_order_relaxed) || isBootstrapBlock(p)) return;
  CounterSlot* slot = mySlot();
  bump(slot, slot->blocks, -1);
  bump(slot, slot->bytes, -static_cast<int64_t>(usableSize(p)));
  if (__builtin_expect(gTraceTable.load(std::memory_order_relaxed), 0)) traceFree(p);
}

// ---------------------------------------------------------------------------------
// Anonymous mappings: a fixed table of [start, start+length) ranges under a spin lock
// (mmap is rare next to malloc), so that munmap can tell what it releases, in part too.
constexpr size_t kMaxMappings = 65536;
SpinLock gMapLock;
uintptr_t gMapStart[kMaxMappings];
size_t gMapLength[kMaxMappings];
size_t gMapCount = 0;
std::atomic<int64_t> gMappedBytes{0};

inline size_t pageRound(size_t n) {
  const size_t page = 4096;
  return (n + page - 1) & ~(page - 1);
}

void appendMappingLocked(uintptr_t start, size_t length) {
  if (length == 0) return;
  if (gMapCount == kMaxMappings) return;  // untracked: neither counted nor uncounted
  gMapStart[gMapCount] = start;
  gMapLength[gMapCount] = length;
  ++gMapCount;
  gMappedBytes.fetch_add(static_cast<int64_t>(length), std::memory_order_relaxed);
}

// Forgets [start, start+length) wherever it overlaps tracked mappings; returns the
// bytes forgotten.
size_t removeRangeLocked(uintptr_t start, size_t length) {
  const uintptr_t end = start + pageRound(length);
  size_t removed = 0;
  for (size_t i = 0; i < gMapCount;) {
    const uintptr_t s = gMapStart[i];
    const uintptr_t e = s + gMapLength[i];
    if (e <= start || s >= end) {
      ++i;
      continue;
    }
    const uintptr_t cutStart = s > start ? s : start;
    const uintptr_t cutEnd = e < end ? e : end;
    removed += cutEnd - cutStart;
    gMappedBytes.fetch_sub(static_cast<int64_t>(cutEnd - cutStart), std::memory_order_relaxed);
    // Keep what lies left and right of the cut.
    const bool keepLeft = s < cutStart;
    const bool keepRight = cutEnd < e;
    if (keepLeft) {
      gMapLength[i] = cutStart - s;
      if (keepRight) {
        gMappedBytes.fetch_sub(static_cast<int64_t>(e - cutEnd), std::memory_order_relaxed);
        appendMappingLocked(cutEnd, e - cutEnd);
      }
      ++i;
    } else if (keepRight) {
      gMapStart[i] = cutEnd;
      gMapLength[i] = e - cutEnd;
      ++i;
    } else {
      --gMapCount;
      gMapStart[i] = gMapStart[gMapCount];
      gMapLength[i] = gMapLength[gMapCount];
    }
  }
  return removed;
}

// ---------------------------------------------------------------------------------
// Start-up and fork.
void lockAllForFork() {
  gMapLock.lock();
  gTraceLock.lock();
}
void unlockAllAfterFork() {
  gTraceLock.unlock();
  gMapLock.unlock();
}

__attribute__((constructor)) void initHooks() {
  const char* off = getenv("PSLEAK_NO_HOOKS");
  if (off && off[0] && !(off[0] == '0' && off[1] == '\0')) {
    gCounting.store(false, std::memory_order_relaxed);
  }
  // A child forked while another thread held a lock must not inherit it held.
  pthread_atfork(lockAllForFork, unlockAllAfterFork, unlockAllAfterFork);
}

}  // namespace

// =================================================================================
// The malloc family.

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
  const bool counting = gCounting.load(std::memory_order_relaxed) && !isBootstrapBlock(old);
  const size_t oldSize = counting ? usableSize(old) : 0;
  const bool wasTraced =
      counting && gTraceTable.load(std::memory_order_relaxed) && traceFree(old);
  void* p = realRealloc(old, size);
  if (!counting) return p;
  if (p || size == 0) {  // moved, resized in place, or (size 0) freed
    CounterSlot* slot = mySlot();
    bump(slot, slot->blocks, -1);
    bump(slot, slot->bytes, -static_cast<int64_t>(oldSize));
    recordAllocation(p);
  } else if (wasTraced) {
    traceAllocation(old, oldSize);  // failed: the old block lives on
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
// Anonymous mappings. The system calls are made directly: the C library's own mmap
// may be unavailable to call by another name, and its internal uses (malloc's large
// blocks, thread stacks) do not come through these symbols anyway.
// While counting, each system call is made under gMapLock together with its table
// update, so that no other thread and no fork() (whose prepare handler takes the lock)
// sees one without the other: a range unmapped but not yet forgotten would otherwise be
// handed by the kernel to another mmap and then forgotten on its behalf, or be inherited
// by a child as a stale entry that the child's own next mapping there cancels out.

PSLEAK_HOOK void* mmap(void* address, size_t length, int protection, int flags, int fd, off_t offset) {
  if (!gCounting.load(std::memory_order_relaxed)) {
    return reinterpret_cast<void*>(syscall(SYS_mmap, address, length, protection, flags, fd, offset));
  }
  SpinGuard guard(gMapLock);
  void* p = reinterpret_cast<void*>(
      syscall(SYS_mmap, address, length, protection, flags, fd, offset));
  if (p != MAP_FAILED) {
    // MAP_FIXED may replace part of a tracked mapping.
    removeRangeLocked(reinterpret_cast<uintptr_t>(p), length);
    if (flags & MAP_ANONYMOUS) appendMappingLocked(reinterpret_cast<uintptr_t>(p), pageRound(length));
  }
  return p;
}

PSLEAK_HOOK void* mmap64(void* address, size_t length, int protection, int flags, int fd, off_t offset) {
  return mmap(address, length, protection, flags, fd, offset);
}

PSLEAK_HOOK int munmap(void* address, size_t length) {
  if (!gCounting.load(std::memory_order_relaxed)) {
    return static_cast<int>(syscall(SYS_munmap, address, length));
  }
  SpinGuard guard(gMapLock);
  const int result = static_cast<int>(syscall(SYS_munmap, address, length));
  if (result == 0) removeRangeLocked(reinterpret_cast<uintptr_t>(address), length);
  return result;
}

PSLEAK_HOOK void* mremap(void* old, size_t oldLength, size_t newLength, int flags, ...) {
  void* wanted = nullptr;
  if (flags & MREMAP_FIXED) {
    va_list args;
    va_start(args, flags);
    wanted = va_arg(args, void*);
    va_end(args);
  }
  if (!gCounting.load(std::memory_order_relaxed)) {
    return reinterpret_cast<void*>(syscall(SYS_mremap, old, oldLength, newLength, flags, wanted));
  }
  SpinGuard guard(gMapLock);
  void* p = reinterpret_cast<void*>(syscall(SYS_mremap, old, oldLength, newLength, flags, wanted));
  if (p != MAP_FAILED) {
    const size_t wasTracked = removeRangeLocked(reinterpret_cast<uintptr_t>(old), oldLength);
    removeRangeLocked(reinterpret_cast<uintptr_t>(p), newLength);
    if (wasTracked) appendMappingLocked(reinterpret_cast<uintptr_t>(p), pageRound(newLength));
  }
  return p;
}

// =================================================================================
// The C interface the rest of psleak reads through.

PSLEAK_HOOK void psleak_hooks_read(PsleakAllocationCounters* counters) {
  int64_t blocks = gSharedSlot.blocks.load(std::memory_order_relaxed);
  int64_t bytes = gSharedSlot.bytes.load(std::memory_order_relaxed);
  unsigned claimed = gNextSlot.load(std::memory_order_relaxed);
  if (claimed > kSlots) claimed = kSlots;
  for (unsigned i = 0; i < claimed; ++i) {
    blocks += gSlots[i].blocks.load(std::memory_order_relaxed);
    bytes += gSlots[i].bytes.load(std::memory_order_relaxed);
  }
  counters->liveBlocks = blocks;
  counters->liveBytes = bytes;
  counters->mappedBytes = gMappedBytes.load(std::memory_order_relaxed);
}

PSLEAK_HOOK void psleak_hooks_set_counting(int enabled) {
  gCounting.store(enabled != 0, std::memory_order_relaxed);
}

PSLEAK_HOOK int psleak_hooks_counting(void) { return gCounting.load(std::memory_order_relaxed) ? 1 : 0; }

PSLEAK_HOOK int psleak_hooks_trace_start(size_t capacity) {
  size_t rounded = 1024;
  while (rounded < capacity) rounded <<= 1;
  // The unwinder loads its support library and allocates on first use: do that now,
  // outside any hook.
  void* warmUp[4];
  backtrace(warmUp, 4);
  auto* keys = static_cast<uintptr_t*>(mapPages(rounded * sizeof(uintptr_t)));
  auto* records = static_cast<PsleakTracedAllocation*>(mapPages(rounded * sizeof(PsleakTracedAllocation)));
  if (!keys || !records) {
    if (keys) syscall(SYS_munmap, keys, rounded * sizeof(uintptr_t));
    if (records) syscall(SYS_munmap, records, rounded * sizeof(PsleakTracedAllocation));
    return 0;
  }
  SpinGuard guard(gTraceLock);
  gTrace.keys = keys;
  gTrace.records = records;
  gTrace.capacity = rounded;
  gTrace.used = 0;
  gTrace.dropped = 0;
  gTraceTable.store(true, std::memory_order_release);
  gTracing.store(true, std::memory_order_release);
  return 1;
}

PSLEAK_HOOK void psleak_hooks_trace_stop(void) { gTracing.store(false, std::memory_order_release); }

PSLEAK_HOOK size_t psleak_hooks_trace_drain(void (*visit)(const PsleakTracedAllocation*, void*),
                                            void* context) {
  // Take the table out under the lock, then visit it without the lock: the visitor may
  // allocate, and frees of traced blocks must not wait for it.
  TraceTable table;
  {
    SpinGuard guard(gTraceLock);
    gTracing.store(false, std::memory_order_release);
    gTraceTable.store(false, std::memory_order_release);
    table = gTrace;
    gTrace = TraceTable{};
  }
  if (!table.keys) return 0;
  for (size_t i = 0; i < table.capacity; ++i) {
    if (table.keys[i] != 0) visit(&table.records[i], context);
  }
  syscall(SYS_munmap, table.keys, table.capacity * sizeof(uintptr_t));
  syscall(SYS_munmap, table.records, table.capacity * sizeof(PsleakTracedAllocation));
  return table.dropped;
}
