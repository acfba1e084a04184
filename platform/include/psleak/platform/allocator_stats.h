#pragma once
// What the C library's allocator says about itself: the original package's malloc_info().

#include <cstdint>
#include <string>

namespace psleak::platform {

struct AllocatorStats {
  std::int64_t heapUsed = 0;   // bytes in blocks handed out from the heap/arenas
  std::int64_t mmapUsed = 0;   // bytes in blocks the allocator served with mmap()
  std::int64_t heapTotal = 0;  // bytes the allocator holds from the OS for its arenas
};

// Reads the allocator's counters. Never allocates. All zero when the C library
// offers no statistics (see allocatorStatsAvailable()).
AllocatorStats readAllocatorStats() noexcept;

// The same, less the freed blocks that the calling thread's allocator cache holds (glibc
// counts them as in use): what a leak check compares. It allocates and frees a few
// hundred small blocks to see them, so call it outside hooks and between measurements.
AllocatorStats readAllocatorStatsWithoutThreadCache() noexcept;

// False when this C library has no statistics to read.
bool allocatorStatsAvailable() noexcept;

// Asks the allocator to give unused memory back to the OS (malloc_trim(0)).
// Returns true if it released anything.
bool trimAllocator() noexcept;

// "glibc 2.36", or what is known of the C library.
std::string allocatorName();

}  // namespace psleak::platform
