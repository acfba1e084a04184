// Allocator statistics from glibc: mallinfo2() (glibc >= 2.33) and malloc_trim().
// On another C library the statistics are reported as unavailable and are all zero;
// psleak then relies on /proc and its own allocator hooks.

#include <malloc.h>

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

bool allocatorStatsAvailable() noexcept { return true; }

bool trimAllocator() noexcept { return ::malloc_trim(0) != 0; }

std::string allocatorName() { return std::string("glibc ") + ::gnu_get_libc_version(); }

#else

AllocatorStats readAllocatorStats() noexcept { return {}; }
bool allocatorStatsAvailable() noexcept { return false; }
bool trimAllocator() noexcept { return false; }
std::string allocatorName() { return "unknown libc (no allocator statistics)"; }

#endif

}  // namespace psleak::platform
