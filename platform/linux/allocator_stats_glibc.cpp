// Allocator statistics from glibc: mallinfo2() (glibc >= 2.33) and malloc_trim().
// On another C library the statistics are reported as unavailable and are all zero;
// psleak then relies on /proc and its own allocator hooks.

#include <malloc.h>

#include <cstdlib>
#include <string>

#include "psleak/platform/allocator_stats.h"

#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

namespace psleak::platform {

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))

AllocatorStats readAllocatorStats() noexcept {
  // mallinfo2 walks every arena under its lock; it does not allocate.
  const struct mallinfo2 info = ::mallinfo2();
  AllocatorStats stats;
  stats.heapUsed = static_cast<std::int64_t>(info.uordblks);
  stats.mmapUsed = static_cast<std::int64_t>(info.hblkhd);
  stats.heapTotal = static_cast<std::int64_t>(info.arena);
  return stats;
}

// glibc's per-thread cache (tcache) keeps up to 7 freed chunks of each of its 64 size
// classes (24 to 1032 usable bytes) out of the arena, and mallinfo2 counts them as in
// use. Which chunks sit there depends on the sizes a function happened to free last, so
// heap_used wobbled by kilobytes between identical calls: a clean function whose frees
// vary in size read as slowly growing. Taking every cached chunk out with malloc (the
// cache serves a request of its class first), reading the statistics while holding them
// and subtracting them counts what is really in use; the chunks then go back.
namespace {
constexpr int kTcacheClasses = 64;
constexpr int kTcachePerClass = 7;  // glibc's default glibc.malloc.tcache_count
constexpr std::size_t kSmallestClassRequest = 24;
constexpr std::size_t kClassStep = 16;
}  // namespace

AllocatorStats readAllocatorStatsWithoutThreadCache() noexcept {
  void* held[kTcacheClasses * kTcachePerClass];
  std::int64_t heldBytes = 0;
  int count = 0;
  for (int c = 0; c < kTcacheClasses; ++c) {
    for (int i = 0; i < kTcachePerClass; ++i) {
      void* block = ::malloc(kSmallestClassRequest + kClassStep * static_cast<std::size_t>(c));
      if (!block) continue;
      held[count++] = block;
      // The chunk as mallinfo2 counts it: usable bytes plus the size word before them.
      heldBytes += static_cast<std::int64_t>(::malloc_usable_size(block) + sizeof(std::size_t));
    }
  }
  AllocatorStats stats = readAllocatorStats();
  stats.heapUsed -= heldBytes;
  // Freed in reverse, so each class's cache refills in the order it was emptied.
  while (count > 0) ::free(held[--count]);
  return stats;
}

bool allocatorStatsAvailable() noexcept { return true; }

bool trimAllocator() noexcept { return ::malloc_trim(0) != 0; }

std::string allocatorName() { return std::string("glibc ") + ::gnu_get_libc_version(); }

#else

AllocatorStats readAllocatorStats() noexcept { return {}; }
AllocatorStats readAllocatorStatsWithoutThreadCache() noexcept { return {}; }
bool allocatorStatsAvailable() noexcept { return false; }
bool trimAllocator() noexcept { return false; }
std::string allocatorName() { return "unknown libc (no allocator statistics)"; }

#endif

}  // namespace psleak::platform
