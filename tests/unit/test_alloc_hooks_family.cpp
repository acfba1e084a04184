// Every function of the malloc family as the hooks define it: each moves liveBlocks by
// exactly the blocks it creates or releases and liveBytes by their usable sizes, and a
// call that fails leaves the counters (and the caller's block) as they were.

#include <errno.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <new>

#include "alloc_hook_test_support.h"

namespace psleak::hooktest {
namespace {

bool isAligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

// A size no allocator can satisfy, passed through a volatile so that the compiler does
// not warn about (or fold) the obviously failing call.
volatile std::size_t gHugeSize = SIZE_MAX - 4096;

TEST(AllocHookFamily, MallocCountsOneBlockOfItsUsableSize) {
  for (const std::size_t size : {std::size_t{1}, std::size_t{24}, std::size_t{100},
                                 std::size_t{4000}, std::size_t{70000}}) {
    const PsleakAllocationCounters before = readCounters();
    void* p = vMalloc(size);
    const PsleakAllocationCounters during = readCounters();
    const std::int64_t bytes = usable(p);
    vFree(p);
    const PsleakAllocationCounters after = readCounters();

    ASSERT_NE(p, nullptr) << size;
    EXPECT_GE(bytes, static_cast<std::int64_t>(size));
    EXPECT_EQ(during - before, (Delta{1, bytes, 0})) << "malloc(" << size << ")";
    EXPECT_EQ(after - before, kNoChange) << "free after malloc(" << size << ")";
  }
}

TEST(AllocHookFamily, MallocZeroIsAUniqueCountedBlock) {
  const PsleakAllocationCounters before = readCounters();
  void* p = vMalloc(0);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);
  vFree(p);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_NE(p, nullptr);  // glibc returns a minimum-size block
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, LargeMallocIsABlockNotAMapping) {
  // Above glibc's mmap threshold the block is an mmapped chunk; glibc maps it with its
  // internal mmap, which does not pass through the hooks, so it is counted once: as a
  // block, not also as mapped bytes.
  ASSERT_EQ(::mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
  const PsleakAllocationCounters before = readCounters();
  void* p = vMalloc(1 << 20);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);
  vFree(p);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_NE(p, nullptr);
  EXPECT_GE(bytes, 1 << 20);
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, FreeNullChangesNothing) {
  const PsleakAllocationCounters before = readCounters();
  vFree(nullptr);
  const PsleakAllocationCounters after = readCounters();
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, CallocCountsAZeroedBlock) {
  const PsleakAllocationCounters before = readCounters();
  auto* p = static_cast<unsigned char*>(vCalloc(10, 24));
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);

  ASSERT_NE(p, nullptr);
  bool zeroed = true;
  for (int i = 0; i < 240; ++i) zeroed = zeroed && p[i] == 0;
  const PsleakAllocationCounters beforeFree = readCounters();
  vFree(p);
  const PsleakAllocationCounters afterFree = readCounters();

  EXPECT_TRUE(zeroed);
  EXPECT_GE(bytes, 240);
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(afterFree - beforeFree, (Delta{-1, -bytes, 0}));
}

TEST(AllocHookFamily, CallocOverflowFailsUncounted) {
  const PsleakAllocationCounters before = readCounters();
  errno = 0;
  void* p = vCalloc(SIZE_MAX / 2, 4);
  const int error = errno;
  const PsleakAllocationCounters after = readCounters();

  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(error, ENOMEM);
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, ReallocGrowMovesBytesNotBlocks) {
  void* p = vMalloc(16);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x5a, 16);
  const std::int64_t oldBytes = usable(p);
  const PsleakAllocationCounters before = readCounters();
  void* q = vRealloc(p, 100000);
  const PsleakAllocationCounters after = readCounters();
  const std::int64_t newBytes = usable(q);

  ASSERT_NE(q, nullptr);
  EXPECT_EQ(static_cast<unsigned char*>(q)[15], 0x5a);
  EXPECT_GE(newBytes, 100000);
  EXPECT_EQ(after - before, (Delta{0, newBytes - oldBytes, 0}));
  vFree(q);
}

TEST(AllocHookFamily, ReallocShrinkMovesBytesNotBlocks) {
  void* p = vMalloc(8192);
  ASSERT_NE(p, nullptr);
  const std::int64_t oldBytes = usable(p);
  const PsleakAllocationCounters before = readCounters();
  void* q = vRealloc(p, 32);
  const PsleakAllocationCounters after = readCounters();
  const std::int64_t newBytes = usable(q);

  ASSERT_NE(q, nullptr);
  EXPECT_LT(newBytes, oldBytes);
  EXPECT_EQ(after - before, (Delta{0, newBytes - oldBytes, 0}));
  vFree(q);
}

TEST(AllocHookFamily, ReallocOfNullIsAMalloc) {
  const PsleakAllocationCounters before = readCounters();
  void* p = vRealloc(nullptr, 200);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);
  vFree(p);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_NE(p, nullptr);
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, ReallocToZeroFrees) {
  void* p = vMalloc(300);
  ASSERT_NE(p, nullptr);
  const std::int64_t bytes = usable(p);
  const PsleakAllocationCounters before = readCounters();
  void* q = vRealloc(p, 0);
  const PsleakAllocationCounters after = readCounters();

  EXPECT_EQ(q, nullptr);  // glibc: realloc(p, 0) frees p and returns NULL
  EXPECT_EQ(after - before, (Delta{-1, -bytes, 0}));
}

TEST(AllocHookFamily, FailedReallocLeavesTheOldBlockCounted) {
  void* p = vMalloc(64);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x33, 64);
  const std::int64_t bytes = usable(p);
  const PsleakAllocationCounters before = readCounters();
  errno = 0;
  void* q = vRealloc(p, gHugeSize);
  const int error = errno;
  const PsleakAllocationCounters afterFailure = readCounters();
  vFree(p);  // still the caller's block
  const PsleakAllocationCounters afterFree = readCounters();

  EXPECT_EQ(q, nullptr);
  EXPECT_EQ(error, ENOMEM);
  EXPECT_EQ(afterFailure - before, kNoChange);
  EXPECT_EQ(afterFree - before, (Delta{-1, -bytes, 0}));
}

TEST(AllocHookFamily, ReallocarrayCountsLikeRealloc) {
  const PsleakAllocationCounters before = readCounters();
  void* p = vReallocarray(nullptr, 10, 40);
  const PsleakAllocationCounters afterNew = readCounters();
  const std::int64_t firstBytes = usable(p);
  void* q = vReallocarray(p, 100, 40);
  const PsleakAllocationCounters afterGrow = readCounters();
  const std::int64_t secondBytes = usable(q);
  vFree(q);
  const PsleakAllocationCounters afterFree = readCounters();

  ASSERT_NE(p, nullptr);
  ASSERT_NE(q, nullptr);
  EXPECT_GE(firstBytes, 400);
  EXPECT_GE(secondBytes, 4000);
  EXPECT_EQ(afterNew - before, (Delta{1, firstBytes, 0}));
  EXPECT_EQ(afterGrow - afterNew, (Delta{0, secondBytes - firstBytes, 0}));
  EXPECT_EQ(afterFree - before, kNoChange);
}

TEST(AllocHookFamily, ReallocarrayOverflowFailsWithEnomemAndKeepsTheBlock) {
  void* p = vMalloc(48);
  ASSERT_NE(p, nullptr);
  const std::int64_t bytes = usable(p);
  const PsleakAllocationCounters before = readCounters();
  errno = 0;
  void* q = vReallocarray(p, SIZE_MAX / 2, 3);
  const int error = errno;
  errno = 0;
  void* fresh = vReallocarray(nullptr, SIZE_MAX / 16, 32);
  const int freshError = errno;
  const PsleakAllocationCounters after = readCounters();
  vFree(p);
  const PsleakAllocationCounters afterFree = readCounters();

  EXPECT_EQ(q, nullptr);
  EXPECT_EQ(error, ENOMEM);
  EXPECT_EQ(fresh, nullptr);
  EXPECT_EQ(freshError, ENOMEM);
  EXPECT_EQ(after - before, kNoChange);
  EXPECT_EQ(afterFree - before, (Delta{-1, -bytes, 0}));
}

TEST(AllocHookFamily, PosixMemalignCountsAnAlignedBlock) {
  void* out = nullptr;
  const PsleakAllocationCounters before = readCounters();
  const int result = vPosixMemalign(&out, 256, 1000);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(out);
  vFree(out);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_EQ(result, 0);
  ASSERT_NE(out, nullptr);
  EXPECT_TRUE(isAligned(out, 256));
  EXPECT_GE(bytes, 1000);
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, PosixMemalignRejectsBadAlignmentUntouchedAndUncounted) {
  // Not a power of two; a power of two below sizeof(void*); zero.
  for (const std::size_t alignment : {std::size_t{24}, std::size_t{4}, std::size_t{0},
                                      std::size_t{3 * 64}}) {
    void* const sentinel = reinterpret_cast<void*>(std::uintptr_t{0x1234});
    void* out = sentinel;
    const PsleakAllocationCounters before = readCounters();
    const int result = vPosixMemalign(&out, alignment, 64);
    const PsleakAllocationCounters after = readCounters();

    EXPECT_EQ(result, EINVAL) << "alignment " << alignment;
    EXPECT_EQ(out, sentinel) << "alignment " << alignment;
    EXPECT_EQ(after - before, kNoChange) << "alignment " << alignment;
  }
}

TEST(AllocHookFamily, PosixMemalignOutOfMemoryLeavesOutUntouched) {
  void* const sentinel = reinterpret_cast<void*>(std::uintptr_t{0x5678});
  void* out = sentinel;
  const PsleakAllocationCounters before = readCounters();
  const int result = vPosixMemalign(&out, 64, gHugeSize);
  const PsleakAllocationCounters after = readCounters();

  EXPECT_EQ(result, ENOMEM);
  EXPECT_EQ(out, sentinel);
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, AlignedAllocCountsAnAlignedBlock) {
  const PsleakAllocationCounters before = readCounters();
  void* p = vAlignedAlloc(64, 640);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);
  vFree(p);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(isAligned(p, 64));
  EXPECT_GE(bytes, 640);
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, MemalignCountsAnAlignedBlock) {
  const PsleakAllocationCounters before = readCounters();
  void* p = vMemalign(4096, 100);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);
  vFree(p);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(isAligned(p, 4096));
  EXPECT_GE(bytes, 100);
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, FailedMemalignIsUncounted) {
  const PsleakAllocationCounters before = readCounters();
  void* p = vMemalign(64, gHugeSize);
  const PsleakAllocationCounters after = readCounters();
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, VallocCountsAPageAlignedBlock) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const PsleakAllocationCounters before = readCounters();
  void* p = vValloc(100);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);
  vFree(p);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(isAligned(p, page));
  EXPECT_GE(bytes, 100);
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookFamily, PvallocCountsAWholePage) {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const PsleakAllocationCounters before = readCounters();
  void* p = vPvalloc(100);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);
  vFree(p);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(isAligned(p, page));
  EXPECT_GE(bytes, static_cast<std::int64_t>(page));  // rounded up to a whole page
  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

// operator new/delete are libstdc++'s, which call malloc/free: C++ allocations count.
TEST(AllocHookFamily, OperatorNewGoesThroughTheHooks) {
  auto* volatile newArray = +[](std::size_t n) { return ::operator new[](n); };
  auto* volatile deleteArray = +[](void* p) { ::operator delete[](p); };
  const PsleakAllocationCounters before = readCounters();
  void* p = newArray(500);
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(p);
  deleteArray(p);
  const PsleakAllocationCounters after = readCounters();

  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

// strdup is inside glibc: its internal malloc call resolves to the hooks too.
TEST(AllocHookFamily, AllocationsInsideTheCLibraryAreCounted) {
  char* (*volatile duplicate)(const char*) = ::strdup;
  const PsleakAllocationCounters before = readCounters();
  char* copy = duplicate("allocated by glibc");
  const PsleakAllocationCounters during = readCounters();
  const std::int64_t bytes = usable(copy);
  vFree(copy);
  const PsleakAllocationCounters after = readCounters();

  EXPECT_EQ(during - before, (Delta{1, bytes, 0}));
  EXPECT_EQ(after - before, kNoChange);
}

}  // namespace
}  // namespace psleak::hooktest
