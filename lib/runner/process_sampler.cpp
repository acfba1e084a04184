#include "runner/process_sampler.h"

#include "core/errors.h"
#include "psleak/platform/allocation_counters.h"
#include "psleak/platform/allocator_stats.h"
#include "psleak/platform/platform_error.h"
#include "psleak/platform/process_memory.h"

namespace psleak {

void ProcessSampler::trim() { platform::trimAllocator(); }

Sample ProcessSampler::sample() {
  Sample sample;
  // Allocator first: reading /proc below does not allocate, but keep the order that
  // would hide it if it ever did.
  if (platform::allocatorStatsAvailable()) {
    const platform::AllocatorStats stats = platform::readAllocatorStatsWithoutThreadCache();
    sample.set(Metric::HeapUsed, stats.heapUsed);
    sample.set(Metric::MmapUsed, stats.mmapUsed);
    sample.set(Metric::HeapTotal, stats.heapTotal);
  }
  // psleak's own hooks, when linked in: exact live blocks and bytes, and the anonymous
  // mappings the program made itself, which join the allocator's mmap'd blocks.
  if (const auto counters = platform::readAllocationCounters()) {
    sample.set(Metric::Allocs, counters->liveBlocks);
    sample.set(Metric::AllocBytes, counters->liveBytes);
    const std::int64_t mapped = sample.has(Metric::MmapUsed) ? sample.get(Metric::MmapUsed) : 0;
    sample.set(Metric::MmapUsed, mapped + counters->mappedBytes);
  }
  try {
    const platform::ProcessMemory memory = platform::readProcessMemory();
    sample.set(Metric::Rss, memory.rss);
    sample.set(Metric::Uss, memory.uss);
    sample.set(Metric::Vms, memory.vms);
  } catch (const platform::PlatformError& e) {
    throw InternalError(std::string("sampling process memory: ") + e.what());
  }
  return sample;
}

}  // namespace psleak
