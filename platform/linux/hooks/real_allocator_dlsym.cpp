// The hooks' way to the C library's allocator where it has no __libc_* entry points:
// dlsym(RTLD_NEXT) on first use. dlsym may itself allocate (its error buffer, the
// loader's bookkeeping), so allocations made while resolving come from a static pool
// that free() recognises and never hands to the C library. The pool is zero-filled and
// never reused, which also makes it a valid calloc.

#include "real_allocator.h"

#if !PSLEAK_HOOKS_GLIBC_DIRECT

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include <atomic>

namespace psleak::hooks {
namespace {

using MallocFn = void* (*)(size_t);
using FreeFn = void (*)(void*);
using CallocFn = void* (*)(size_t, size_t);
using ReallocFn = void* (*)(void*, size_t);
using MemalignFn = void* (*)(size_t, size_t);

alignas(64) unsigned char gBootstrapPool[64 * 1024];
std::atomic<size_t> gBootstrapUsed{0};
std::atomic<bool> gResolving{false};
std::atomic<MallocFn> gMalloc{nullptr};  // set last: once non-null, all are set
FreeFn gFree = nullptr;
CallocFn gCalloc = nullptr;
ReallocFn gRealloc = nullptr;
MemalignFn gMemalign = nullptr;

void* bootstrapAlloc(size_t n, size_t alignment = 16) {
  const size_t rounded = (n + alignment - 1) & ~(alignment - 1);
  size_t offset = gBootstrapUsed.load(std::memory_order_relaxed);
  size_t start = 0;
  do {
    start = (offset + alignment - 1) & ~(alignment - 1);
    if (start + rounded > sizeof gBootstrapPool) {
      errno = ENOMEM;
      return nullptr;
    }
  } while (!gBootstrapUsed.compare_exchange_weak(offset, start + rounded));
  return gBootstrapPool + start;
}

// True once the C library's functions are known. False while dlsym runs (on this or
// another thread): the caller then serves the request from the pool.
bool resolved() {
  if (gMalloc.load(std::memory_order_acquire)) return true;
  if (gResolving.exchange(true)) return false;
  gFree = reinterpret_cast<FreeFn>(dlsym(RTLD_NEXT, "free"));
  gCalloc = reinterpret_cast<CallocFn>(dlsym(RTLD_NEXT, "calloc"));
  gRealloc = reinterpret_cast<ReallocFn>(dlsym(RTLD_NEXT, "realloc"));
  gMemalign = reinterpret_cast<MemalignFn>(dlsym(RTLD_NEXT, "memalign"));
  gMalloc.store(reinterpret_cast<MallocFn>(dlsym(RTLD_NEXT, "malloc")), std::memory_order_release);
  return gMalloc.load(std::memory_order_acquire) != nullptr;
}

size_t pageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

}  // namespace

bool isBootstrapBlock(const void* p) {
  const auto* byte = static_cast<const unsigned char*>(p);
  return byte >= gBootstrapPool && byte < gBootstrapPool + sizeof gBootstrapPool;
}

void* realMalloc(size_t n) { return resolved() ? gMalloc.load()(n) : bootstrapAlloc(n); }

void realFree(void* p) {
  if (p && !isBootstrapBlock(p) && resolved()) gFree(p);
}

void* realCalloc(size_t n, size_t s) {
  if (s && n > SIZE_MAX / s) {
    errno = ENOMEM;
    return nullptr;
  }
  return resolved() ? gCalloc(n, s) : bootstrapAlloc(n * s);
}

void* realRealloc(void* p, size_t n) {
  if (isBootstrapBlock(p)) {
    // A pool block grows by copying into a real one; the pool never takes it back.
    void* q = realMalloc(n);
    if (q) {
      const size_t available =
          sizeof gBootstrapPool - static_cast<size_t>(static_cast<unsigned char*>(p) - gBootstrapPool);
      const size_t copy = n < available ? n : available;
      for (size_t i = 0; i < copy; ++i) static_cast<unsigned char*>(q)[i] = static_cast<unsigned char*>(p)[i];
    }
    return q;
  }
  return resolved() ? gRealloc(p, n) : bootstrapAlloc(n);
}

void* realMemalign(size_t a, size_t n) {
  return resolved() ? gMemalign(a, n) : bootstrapAlloc(n, a < 16 ? 16 : a);
}

void* realValloc(size_t n) { return realMemalign(pageSize(), n); }

void* realPvalloc(size_t n) {
  const size_t page = pageSize();
  return realMemalign(page, (n + page - 1) & ~(page - 1));
}

}  // namespace psleak::hooks

#endif  // !PSLEAK_HOOKS_GLIBC_DIRECT
