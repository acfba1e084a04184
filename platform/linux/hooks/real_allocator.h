#pragma once
// The C library's own allocator, which the hooks forward to, and the size the hooks
// count for a live block.
//
// On glibc the hooks call its __libc_* entry points directly. On any other C library
// (or with PSLEAK_HOOKS_FORCE_DLSYM, which the tests use to exercise this path on
// glibc) they find the next definitions with dlsym(RTLD_NEXT) on first use; allocations
// made while dlsym itself runs are served from a static bootstrap pool
// (real_allocator_dlsym.cpp).

#include <malloc.h>
#include <stddef.h>

#if defined(__GLIBC__) && !defined(PSLEAK_HOOKS_FORCE_DLSYM)
#define PSLEAK_HOOKS_GLIBC_DIRECT 1
#else
#define PSLEAK_HOOKS_GLIBC_DIRECT 0
#endif

#if PSLEAK_HOOKS_GLIBC_DIRECT
extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* __libc_valloc(size_t);
void* __libc_pvalloc(size_t);
}
#endif

namespace psleak::hooks {

#if PSLEAK_HOOKS_GLIBC_DIRECT
inline void* realMalloc(size_t n) { return __libc_malloc(n); }
inline void realFree(void* p) { __libc_free(p); }
inline void* realCalloc(size_t n, size_t s) { return __libc_calloc(n, s); }
inline void* realRealloc(void* p, size_t n) { return __libc_realloc(p, n); }
inline void* realMemalign(size_t a, size_t n) { return __libc_memalign(a, n); }
inline void* realValloc(size_t n) { return __libc_valloc(n); }
inline void* realPvalloc(size_t n) { return __libc_pvalloc(n); }
inline bool isBootstrapBlock(const void*) { return false; }

// The size counted for a live block: its chunk size, read inline from the header word
// in front of it (whose low three bits are flags). Calling malloc_usable_size() for
// this, with its look at the next chunk, was most of the hooks' cost. The chunk size is
// the usable size plus the 8-byte size word (plus 8 more for a block glibc mmapped
// itself); the reader subtracts kCountedOverheadPerBlock per live block, so liveBytes
// is the usable size, exact below the mmap threshold and 8 bytes over above it. The
// layout is ptmalloc's since glibc 2.0; a glibc built with memory tagging would need
// malloc_usable_size instead.
inline size_t countedSize(const void* p) {
  return reinterpret_cast<const size_t*>(p)[-1] & ~size_t{7};
}
constexpr size_t kCountedOverheadPerBlock = sizeof(size_t);
#else
void* realMalloc(size_t n);
void realFree(void* p);
void* realCalloc(size_t n, size_t s);
void* realRealloc(void* p, size_t n);
void* realMemalign(size_t a, size_t n);
void* realValloc(size_t n);
void* realPvalloc(size_t n);
bool isBootstrapBlock(const void* p);

inline size_t countedSize(const void* p) {
  return isBootstrapBlock(p) ? 0 : malloc_usable_size(const_cast<void*>(p));
}
constexpr size_t kCountedOverheadPerBlock = 0;
#endif

}  // namespace psleak::hooks
