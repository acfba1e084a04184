// Anonymous mappings made through the hooked mmap/munmap/mremap: counted in
// mappedBytes by whole pages, released in part or in whole, followed when moved; file
// mappings are not counted.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "alloc_hook_test_support.h"

namespace psleak::hooktest {
namespace {

constexpr int kReadWrite = PROT_READ | PROT_WRITE;
constexpr int kAnonymous = MAP_PRIVATE | MAP_ANONYMOUS;

char* pageOf(void* mapping, std::size_t index) { return static_cast<char*>(mapping) + index * kPage; }

class AllocHookMmap : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)), kPage); }
};

TEST_F(AllocHookMmap, AnonymousMappingCountsUntilUnmapped) {
  const PsleakAllocationCounters before = readCounters();
  void* p = ::mmap(nullptr, 65536, kReadWrite, kAnonymous, -1, 0);
  const PsleakAllocationCounters mapped = readCounters();
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 1, 65536);
  const PsleakAllocationCounters beforeUnmap = readCounters();
  const int result = ::munmap(p, 65536);
  const PsleakAllocationCounters unmapped = readCounters();

  EXPECT_EQ(mapped - before, (Delta{0, 0, 65536}));
  EXPECT_EQ(result, 0);
  EXPECT_EQ(unmapped - beforeUnmap, (Delta{0, 0, -65536}));
  EXPECT_EQ(unmapped - before, kNoChange);
}

TEST_F(AllocHookMmap, LengthIsRoundedToWholePages) {
  const PsleakAllocationCounters before = readCounters();
  void* p = ::mmap(nullptr, 5000, kReadWrite, kAnonymous, -1, 0);
  const PsleakAllocationCounters mapped = readCounters();
  const int result = ::munmap(p, 5000);
  const PsleakAllocationCounters unmapped = readCounters();

  ASSERT_NE(p, MAP_FAILED);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(mapped - before, (Delta{0, 0, 2 * kPage}));
  EXPECT_EQ(unmapped - before, kNoChange);
}

TEST_F(AllocHookMmap, PartialMunmapOfTheMiddlePageKeepsBothEnds) {
  const PsleakAllocationCounters before = readCounters();
  void* p = ::mmap(nullptr, 3 * kPage, kReadWrite, kAnonymous, -1, 0);
  const PsleakAllocationCounters mapped = readCounters();
  ASSERT_NE(p, MAP_FAILED);
  const int middle = ::munmap(pageOf(p, 1), kPage);
  const PsleakAllocationCounters afterMiddle = readCounters();
  // Both ends are still mapped and usable.
  pageOf(p, 0)[0] = 'a';
  pageOf(p, 2)[kPage - 1] = 'z';
  const PsleakAllocationCounters beforeFirst = readCounters();
  const int first = ::munmap(pageOf(p, 0), kPage);
  const PsleakAllocationCounters afterFirst = readCounters();
  const int last = ::munmap(pageOf(p, 2), kPage);
  const PsleakAllocationCounters afterLast = readCounters();

  EXPECT_EQ(mapped - before, (Delta{0, 0, 3 * kPage}));
  EXPECT_EQ(middle, 0);
  EXPECT_EQ(afterMiddle - before, (Delta{0, 0, 2 * kPage}));
  EXPECT_EQ(beforeFirst - afterMiddle, kNoChange);
  EXPECT_EQ(first, 0);
  EXPECT_EQ(afterFirst - before, (Delta{0, 0, kPage}));
  EXPECT_EQ(last, 0);
  EXPECT_EQ(afterLast - before, kNoChange);
}

TEST_F(AllocHookMmap, MunmapSpanningSeveralMappingsReleasesEachOverlap) {
  // Two adjacent mappings (the second placed right after the first), unmapped by one
  // call covering the last page of the first and the first page of the second.
  void* area = ::mmap(nullptr, 6 * kPage, PROT_NONE, kAnonymous, -1, 0);
  ASSERT_NE(area, MAP_FAILED);
  ASSERT_EQ(::munmap(area, 6 * kPage), 0);
  const PsleakAllocationCounters before = readCounters();
  void* a = ::mmap(area, 3 * kPage, kReadWrite, kAnonymous | MAP_FIXED, -1, 0);
  void* b = ::mmap(pageOf(area, 3), 3 * kPage, kReadWrite, kAnonymous | MAP_FIXED, -1, 0);
  const PsleakAllocationCounters mapped = readCounters();
  const int across = ::munmap(pageOf(area, 2), 2 * kPage);
  const PsleakAllocationCounters afterAcross = readCounters();
  const int rest = ::munmap(area, 6 * kPage);
  const PsleakAllocationCounters afterRest = readCounters();

  EXPECT_EQ(a, area);
  EXPECT_EQ(b, pageOf(area, 3));
  EXPECT_EQ(mapped - before, (Delta{0, 0, 6 * kPage}));
  EXPECT_EQ(across, 0);
  EXPECT_EQ(afterAcross - before, (Delta{0, 0, 4 * kPage}));
  EXPECT_EQ(rest, 0);
  EXPECT_EQ(afterRest - before, kNoChange);
}

TEST_F(AllocHookMmap, MremapGrowIsCountedAtTheNewSize) {
  const PsleakAllocationCounters before = readCounters();
  void* p = ::mmap(nullptr, kPage, kReadWrite, kAnonymous, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  static_cast<char*>(p)[0] = 'x';
  const PsleakAllocationCounters mapped = readCounters();
  void* q = ::mremap(p, kPage, 16 * kPage, MREMAP_MAYMOVE);
  const PsleakAllocationCounters grown = readCounters();
  ASSERT_NE(q, MAP_FAILED);
  const char kept = static_cast<char*>(q)[0];
  const PsleakAllocationCounters beforeShrink = readCounters();
  void* r = ::mremap(q, 16 * kPage, 2 * kPage, 0);
  const PsleakAllocationCounters shrunk = readCounters();
  const int result = ::munmap(r, 2 * kPage);
  const PsleakAllocationCounters unmapped = readCounters();

  EXPECT_EQ(mapped - before, (Delta{0, 0, kPage}));
  EXPECT_EQ(kept, 'x');
  EXPECT_EQ(grown - before, (Delta{0, 0, 16 * kPage}));
  EXPECT_EQ(beforeShrink - grown, kNoChange);
  EXPECT_EQ(r, q);  // shrinking never moves
  EXPECT_EQ(shrunk - before, (Delta{0, 0, 2 * kPage}));
  EXPECT_EQ(result, 0);
  EXPECT_EQ(unmapped - before, kNoChange);
}

TEST_F(AllocHookMmap, MremapToAFixedAddressReplacesWhatWasThere) {
  // The target is a counted PROT_NONE reservation; MREMAP_FIXED moves the mapping over
  // it, which unmaps the reservation: afterwards only the moved mapping counts.
  const PsleakAllocationCounters before = readCounters();
  void* target = ::mmap(nullptr, 4 * kPage, PROT_NONE, kAnonymous, -1, 0);
  void* p = ::mmap(nullptr, 2 * kPage, kReadWrite, kAnonymous, -1, 0);
  const PsleakAllocationCounters mapped = readCounters();
  ASSERT_NE(target, MAP_FAILED);
  ASSERT_NE(p, MAP_FAILED);
  static_cast<char*>(p)[0] = 'm';
  const PsleakAllocationCounters beforeMove = readCounters();
  void* q = ::mremap(p, 2 * kPage, 4 * kPage, MREMAP_MAYMOVE | MREMAP_FIXED, target);
  const PsleakAllocationCounters moved = readCounters();
  ASSERT_NE(q, MAP_FAILED);
  const char kept = static_cast<char*>(q)[0];
  const PsleakAllocationCounters beforeOld = readCounters();
  const int oldGone = ::munmap(p, 2 * kPage);  // nothing there any more: not counted
  const PsleakAllocationCounters afterOld = readCounters();
  const int result = ::munmap(q, 4 * kPage);
  const PsleakAllocationCounters unmapped = readCounters();

  EXPECT_EQ(mapped - before, (Delta{0, 0, 6 * kPage}));
  EXPECT_EQ(q, target);
  EXPECT_EQ(kept, 'm');
  EXPECT_EQ(moved - beforeMove, (Delta{0, 0, -2 * static_cast<std::int64_t>(kPage)}));
  EXPECT_EQ(moved - before, (Delta{0, 0, 4 * kPage}));
  EXPECT_EQ(oldGone, 0);
  EXPECT_EQ(afterOld - beforeOld, kNoChange);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(unmapped - before, kNoChange);
}

TEST_F(AllocHookMmap, FailedCallsChangeNothing) {
  const PsleakAllocationCounters before = readCounters();
  void* bad = ::mmap(nullptr, 0, kReadWrite, kAnonymous, -1, 0);  // EINVAL: zero length
  const int misaligned = ::munmap(reinterpret_cast<void*>(std::uintptr_t{4097}), kPage);
  const PsleakAllocationCounters after = readCounters();

  EXPECT_EQ(bad, MAP_FAILED);
  EXPECT_EQ(misaligned, -1);
  EXPECT_EQ(after - before, kNoChange);
}

TEST_F(AllocHookMmap, FileMappingsAreNotCounted) {
  char path[] = "/tmp/psleak_hook_test_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ASSERT_EQ(::ftruncate(fd, 4 * kPage), 0);
  const int zero = ::open("/dev/zero", O_RDWR);
  ASSERT_GE(zero, 0);

  const PsleakAllocationCounters before = readCounters();
  void* shared = ::mmap(nullptr, 4 * kPage, kReadWrite, MAP_SHARED, fd, 0);
  void* privateFile = ::mmap(nullptr, 4 * kPage, kReadWrite, MAP_PRIVATE, fd, 0);
  void* devZero = ::mmap(nullptr, 4 * kPage, kReadWrite, MAP_PRIVATE, zero, 0);
  const PsleakAllocationCounters mapped = readCounters();
  const int r1 = ::munmap(shared, 4 * kPage);
  const int r2 = ::munmap(privateFile, 4 * kPage);
  const int r3 = ::munmap(devZero, 4 * kPage);
  const PsleakAllocationCounters unmapped = readCounters();
  ::close(zero);
  ::close(fd);

  ASSERT_NE(shared, MAP_FAILED);
  ASSERT_NE(privateFile, MAP_FAILED);
  ASSERT_NE(devZero, MAP_FAILED);
  EXPECT_EQ(mapped - before, kNoChange);
  EXPECT_EQ(r1 + r2 + r3, 0);
  EXPECT_EQ(unmapped - before, kNoChange);
}

TEST_F(AllocHookMmap, FileMappingPlacedOverAnAnonymousOneReplacesItsPages) {
  const int zero = ::open("/dev/zero", O_RDWR);
  ASSERT_GE(zero, 0);
  const PsleakAllocationCounters before = readCounters();
  void* p = ::mmap(nullptr, 3 * kPage, kReadWrite, kAnonymous, -1, 0);
  void* over = ::mmap(pageOf(p, 1), kPage, kReadWrite, MAP_PRIVATE | MAP_FIXED, zero, 0);
  const PsleakAllocationCounters replaced = readCounters();
  const int result = ::munmap(p, 3 * kPage);
  const PsleakAllocationCounters unmapped = readCounters();
  ::close(zero);

  ASSERT_NE(p, MAP_FAILED);
  EXPECT_EQ(over, pageOf(p, 1));
  EXPECT_EQ(replaced - before, (Delta{0, 0, 2 * kPage}));
  EXPECT_EQ(result, 0);
  EXPECT_EQ(unmapped - before, kNoChange);
}

TEST_F(AllocHookMmap, MmapOfAFileMappingGrownByMremapStaysUncounted) {
  const int zero = ::open("/dev/zero", O_RDWR);
  ASSERT_GE(zero, 0);
  const PsleakAllocationCounters before = readCounters();
  void* p = ::mmap(nullptr, kPage, kReadWrite, MAP_PRIVATE, zero, 0);
  void* q = ::mremap(p, kPage, 8 * kPage, MREMAP_MAYMOVE);
  const PsleakAllocationCounters grown = readCounters();
  const int result = ::munmap(q, 8 * kPage);
  const PsleakAllocationCounters unmapped = readCounters();
  ::close(zero);

  ASSERT_NE(p, MAP_FAILED);
  ASSERT_NE(q, MAP_FAILED);
  EXPECT_EQ(grown - before, kNoChange);
  EXPECT_EQ(result, 0);
  EXPECT_EQ(unmapped - before, kNoChange);
}

}  // namespace
}  // namespace psleak::hooktest
