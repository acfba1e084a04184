// glibc's allocator statistics against real allocations made by the test itself.
// The build is optimised, so every block is written through a volatile pointer and kept
// in a container the compiler cannot see through, or malloc/free pairs could vanish.

#include "psleak/platform/allocator_stats.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "psleak/platform/process_memory.h"

namespace psleak::platform {
namespace {

// Tells the optimiser that `p` and what it points to are used.
void keep(void* p) { asm volatile("" : : "r"(p) : "memory"); }

void* touchedBlock(std::size_t size) {
  void* p = std::malloc(size);
  if (!p) return nullptr;
  volatile char* bytes = static_cast<volatile char*>(p);
  for (std::size_t i = 0; i < size; i += 512) bytes[i] = static_cast<char>(i);
  bytes[size - 1] = 1;
  keep(p);
  return p;
}

class AllocatorStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!allocatorStatsAvailable()) GTEST_SKIP() << "no allocator statistics: " << allocatorName();
  }
};

TEST_F(AllocatorStatsTest, NameIsGlibcWithVersion) {
  EXPECT_EQ(allocatorName().rfind("glibc 2.", 0), 0u) << allocatorName();
}

TEST_F(AllocatorStatsTest, LargeBlockCountsInMmapUsedUntilFreed) {
  // glibc raises its mmap threshold after a mmapped block is freed (the dynamic
  // threshold), so a 1 MiB block is only sure to be mmapped with the threshold pinned.
  ASSERT_EQ(::mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
  constexpr std::int64_t kSize = 1 << 20;
  const AllocatorStats before = readAllocatorStats();
  void* block = touchedBlock(kSize);
  ASSERT_NE(block, nullptr);
  const AllocatorStats during = readAllocatorStats();
  keep(block);
  std::free(block);
  const AllocatorStats after = readAllocatorStats();

  EXPECT_GE(during.mmapUsed - before.mmapUsed, kSize);
  EXPECT_LE(during.mmapUsed - before.mmapUsed, kSize + 8192);  // one chunk, page-rounded
  EXPECT_EQ(after.mmapUsed, before.mmapUsed);
}

TEST_F(AllocatorStatsTest, SmallBlocksCountInHeapUsed) {
  constexpr int kBlocks = 1000;
  constexpr std::int64_t kSize = 100;
  std::vector<void*> blocks;
  blocks.reserve(kBlocks);
  const AllocatorStats before = readAllocatorStats();
  for (int i = 0; i < kBlocks; ++i) blocks.push_back(touchedBlock(kSize));
  keep(blocks.data());
  const AllocatorStats during = readAllocatorStats();
  for (void* p : blocks) {
    ASSERT_NE(p, nullptr);
    std::free(p);
  }
  keep(blocks.data());
  const AllocatorStats after = readAllocatorStats();

  EXPECT_GE(during.heapUsed - before.heapUsed, kBlocks * kSize);
  EXPECT_EQ(during.mmapUsed, before.mmapUsed);
  EXPECT_GE(during.heapTotal, during.heapUsed);
  // Freed blocks go back to the bins (a few stay in the per-thread cache, counted as used).
  EXPECT_LE(after.heapUsed, before.heapUsed + 4096);
}

TEST_F(AllocatorStatsTest, TrimGivesFreedHeapPagesBack) {
  // 8 MiB of 64 KiB blocks: below the (pinned) mmap threshold, so from the heap. With
  // free()'s own trimming of the heap top turned off, the freed pages stay resident
  // until trimAllocator() gives them back, wherever in the heap they lie.
  ASSERT_EQ(::mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
  ASSERT_EQ(::mallopt(M_TRIM_THRESHOLD, 1 << 30), 1);
  constexpr int kBlocks = 128;
  constexpr std::size_t kSize = 64 * 1024;
  std::vector<void*> blocks;
  blocks.reserve(kBlocks);
  for (int i = 0; i < kBlocks; ++i) blocks.push_back(touchedBlock(kSize));
  for (void* p : blocks) std::free(p);
  keep(blocks.data());

  const ProcessMemory before = readProcessMemory();
  const bool released = trimAllocator();
  const ProcessMemory after = readProcessMemory();

  EXPECT_TRUE(released);
  EXPECT_GE(before.uss - after.uss, 4 << 20) << "USS " << before.uss << " -> " << after.uss;
}

TEST_F(AllocatorStatsTest, TrimWithNothingToReleaseDoesNotCrash) {
  trimAllocator();
  const bool again = trimAllocator();
  (void)again;  // true or false: whether free chunks span a page is glibc's business
  const AllocatorStats stats = readAllocatorStats();
  EXPECT_GT(stats.heapTotal, 0);
  EXPECT_GE(stats.heapUsed, 0);
}

}  // namespace
}  // namespace psleak::platform
