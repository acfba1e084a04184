// Anonymous mappings: psleak's mmap/mmap64/munmap/mremap. A fixed table of
// [start, start+length) ranges under a spin lock (mmap is rare next to malloc), so that
// munmap can tell what it releases, in part too.
//
// The system calls are made directly: the C library's own mmap may be unavailable to
// call by another name, and its internal uses (malloc's large blocks, thread stacks) do
// not come through these symbols anyway. While counting, each system call is made under
// the lock together with its table update, so that no other thread and no fork()
// (whose prepare handler takes the lock) sees one without the other: a range unmapped
// but not yet forgotten would otherwise be handed by the kernel to another mmap and
// then forgotten on its behalf, or be inherited by a child as a stale entry that the
// child's own next mapping there cancels out.

#include <pthread.h>
#include <stdarg.h>

#include "hook_common.h"
#include "mapping_hooks.h"

namespace psleak::hooks {
namespace {

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

// Whether `address` lies in a tracked mapping (1) or not (0).
size_t isTrackedLocked(uintptr_t address) {
  for (size_t i = 0; i < gMapCount; ++i) {
    if (address >= gMapStart[i] && address < gMapStart[i] + gMapLength[i]) return 1;
  }
  return 0;
}

}  // namespace

int64_t mappedBytes() { return gMappedBytes.load(std::memory_order_relaxed); }

void lockMappingsForFork() { gMapLock.lock(); }
void unlockMappingsAfterFork() { gMapLock.unlock(); }

}  // namespace psleak::hooks

using namespace psleak::hooks;

PSLEAK_HOOK void* mmap(void* address, size_t length, int protection, int flags, int fd, off_t offset) {
  if (!counting()) {
    return reinterpret_cast<void*>(syscall(SYS_mmap, address, length, protection, flags, fd, offset));
  }
  SpinGuard guard(gMapLock);
  void* p = reinterpret_cast<void*>(syscall(SYS_mmap, address, length, protection, flags, fd, offset));
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
  if (!counting()) return static_cast<int>(syscall(SYS_munmap, address, length));
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
  if (!counting()) {
    return reinterpret_cast<void*>(syscall(SYS_mremap, old, oldLength, newLength, flags, wanted));
  }
  SpinGuard guard(gMapLock);
  void* p = reinterpret_cast<void*>(syscall(SYS_mremap, old, oldLength, newLength, flags, wanted));
  if (p != MAP_FAILED) {
    // MREMAP_DONTUNMAP leaves the old range mapped (empty): it stays counted.
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
    const bool oldStays = (flags & MREMAP_DONTUNMAP) != 0;
    const size_t wasTracked = oldStays ? isTrackedLocked(reinterpret_cast<uintptr_t>(old))
                                       : removeRangeLocked(reinterpret_cast<uintptr_t>(old), oldLength);
    removeRangeLocked(reinterpret_cast<uintptr_t>(p), newLength);
    if (wasTracked) appendMappingLocked(reinterpret_cast<uintptr_t>(p), pageRound(newLength));
  }
  return p;
}
