#pragma once
// Shared by the allocator-hook tests (psleak_alloc_hook_tests), a binary that links
// psleak_alloc_hooks and so has the hooks interposed on itself.
//
// Two rules every test here follows:
// - The optimiser may pair a malloc with its free and remove both, so the family is
//   called through volatile function pointers, which it cannot see through.
// - GoogleTest allocates (messages, test records), so counters are read right around
//   the operation measured, with no gtest macro, std::string or container growth in
//   between; assertions come afterwards.

#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <ostream>

#include "psleak/platform/allocation_hooks_abi.h"

namespace psleak::hooktest {

inline void* (*volatile vMalloc)(size_t) = ::malloc;
inline void (*volatile vFree)(void*) = ::free;
inline void* (*volatile vCalloc)(size_t, size_t) = ::calloc;
inline void* (*volatile vRealloc)(void*, size_t) = ::realloc;
inline void* (*volatile vReallocarray)(void*, size_t, size_t) = ::reallocarray;
inline int (*volatile vPosixMemalign)(void**, size_t, size_t) = ::posix_memalign;
inline void* (*volatile vAlignedAlloc)(size_t, size_t) = ::aligned_alloc;
inline void* (*volatile vMemalign)(size_t, size_t) = ::memalign;
inline void* (*volatile vValloc)(size_t) = ::valloc;
inline void* (*volatile vPvalloc)(size_t) = ::pvalloc;

// Tells the optimiser that `p` and what it points to are used.
inline void keep(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

inline PsleakAllocationCounters readCounters() {
  PsleakAllocationCounters counters{};
  psleak_hooks_read(&counters);
  return counters;
}

// What the hooks count for a live block: its usable size, and on glibc 8 bytes more for
// a block glibc mmapped itself (the hooks read the chunk size from the block's header
// and take off the size word; such a chunk has a second header word in front).
inline std::int64_t usable(const void* p) {
  const auto size = static_cast<std::int64_t>(::malloc_usable_size(const_cast<void*>(p)));
#if defined(__GLIBC__) && !defined(PSLEAK_HOOKS_FORCE_DLSYM)
  const bool mmappedChunk = p != nullptr && (static_cast<const std::size_t*>(p)[-1] & 2) != 0;
  return mmappedChunk ? size + 8 : size;
#else
  return size;
#endif
}

// The change between two readings, comparable and printable in assertions.
struct Delta {
  std::int64_t blocks = 0;
  std::int64_t bytes = 0;
  std::int64_t mapped = 0;
  bool operator==(const Delta& other) const {
    return blocks == other.blocks && bytes == other.bytes && mapped == other.mapped;
  }
};

inline Delta operator-(const PsleakAllocationCounters& after,
                       const PsleakAllocationCounters& before) {
  return Delta{after.liveBlocks - before.liveBlocks, after.liveBytes - before.liveBytes,
               after.mappedBytes - before.mappedBytes};
}

inline std::ostream& operator<<(std::ostream& out, const Delta& delta) {
  return out << "{blocks " << delta.blocks << ", bytes " << delta.bytes << ", mapped "
             << delta.mapped << "}";
}

inline constexpr Delta kNoChange{};

inline constexpr std::size_t kPage = 4096;

}  // namespace psleak::hooktest
