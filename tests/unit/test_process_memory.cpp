// Process memory: the /proc parsers on fixture text, and readProcessMemory() against a
// mapping the test makes and touches itself.

#include "psleak/platform/process_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace psleak::platform {
namespace {

TEST(ParseStatm, SizeAndResidentInPages) {
  const auto memory = parseStatm("2544 1234 567 8 0 345 0\n", 4096);
  ASSERT_TRUE(memory.has_value());
  EXPECT_EQ(memory->vms, 2544 * 4096);
  EXPECT_EQ(memory->rss, 1234 * 4096);
  EXPECT_EQ(memory->uss, 0);  // not in statm
}

TEST(ParseStatm, OtherPageSizeAndNoNewline) {
  const auto memory = parseStatm("10 3", 16384);
  ASSERT_TRUE(memory.has_value());
  EXPECT_EQ(memory->vms, 10 * 16384);
  EXPECT_EQ(memory->rss, 3 * 16384);
}

TEST(ParseStatm, MalformedIsNullopt) {
  EXPECT_FALSE(parseStatm("", 4096).has_value());
  EXPECT_FALSE(parseStatm("\n", 4096).has_value());
  EXPECT_FALSE(parseStatm("abc def", 4096).has_value());
  EXPECT_FALSE(parseStatm("2544", 4096).has_value());
  EXPECT_FALSE(parseStatm("2544 x 1", 4096).has_value());
  EXPECT_FALSE(parseStatm("-1 2", 4096).has_value());
}

constexpr const char* kSmapsRollup =
    "55d0c7a4a000-7ffd2b3f6000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:                4056 kB\n"
    "Pss:                1834 kB\n"
    "Pss_Anon:           1000 kB\n"
    "Pss_File:            834 kB\n"
    "Pss_Shmem:             0 kB\n"
    "Shared_Clean:       2796 kB\n"
    "Shared_Dirty:          0 kB\n"
    "Private_Clean:       256 kB\n"
    "Private_Dirty:      1000 kB\n"
    "Referenced:         4056 kB\n"
    "Anonymous:          1000 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:         0 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "FilePmdMapped:         0 kB\n"
    "Shared_Hugetlb:     2048 kB\n"
    "Private_Hugetlb:    4096 kB\n"
    "Swap:                  0 kB\n"
    "SwapPss:               0 kB\n"
    "Locked:                0 kB\n";

TEST(ParseSmapsRollupUss, SumsThePrivateFieldsOnly) {
  const auto uss = parseSmapsRollupUss(kSmapsRollup);
  ASSERT_TRUE(uss.has_value());
  EXPECT_EQ(*uss, (256 + 1000 + 4096) * 1024);
}

TEST(ParseSmapsRollupUss, LastLineWithoutNewline) {
  const auto uss = parseSmapsRollupUss("Rss: 8 kB\nPrivate_Dirty:\t12 kB");
  ASSERT_TRUE(uss.has_value());
  EXPECT_EQ(*uss, 12 * 1024);
}

TEST(ParseSmapsRollupUss, MalformedIsNullopt) {
  EXPECT_FALSE(parseSmapsRollupUss("").has_value());
  EXPECT_FALSE(parseSmapsRollupUss("Rss: 4056 kB\nPss: 1834 kB\n").has_value());
  EXPECT_FALSE(parseSmapsRollupUss("Private_Dirty: lots kB\n").has_value());
  EXPECT_FALSE(parseSmapsRollupUss("Private_Dirty 12 kB\n").has_value());
  EXPECT_FALSE(parseSmapsRollupUss("Private_Dirtyish: 12 kB\n").has_value());
  EXPECT_FALSE(parseSmapsRollupUss("garbage\n\n\n").has_value());
}

TEST(ReadProcessMemory, PlausibleValues) {
  const ProcessMemory memory = readProcessMemory();
  EXPECT_GT(memory.rss, 0);
  EXPECT_GT(memory.uss, 0);
  EXPECT_GE(memory.vms, memory.rss);
  const long page = ::sysconf(_SC_PAGESIZE);
  EXPECT_EQ(memory.rss % page, 0);
  EXPECT_EQ(memory.vms % page, 0);
}

TEST(ReadProcessMemory, TouchedPagesShowInRssAndUss) {
  const std::int64_t page = ::sysconf(_SC_PAGESIZE);
  constexpr std::int64_t kPages = 8192;  // 32 MiB with 4 KiB pages
  const std::size_t size = static_cast<std::size_t>(kPages * page);

  const ProcessMemory before = readProcessMemory();
  void* mapping = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapping, MAP_FAILED);
  // No transparent huge pages: one fault must bring in one page, not 512.
  ::madvise(mapping, size, MADV_NOHUGEPAGE);
  const ProcessMemory mapped = readProcessMemory();
  volatile char* bytes = static_cast<volatile char*>(mapping);
  for (std::int64_t i = 0; i < kPages; ++i) bytes[i * page] = 1;
  const ProcessMemory touched = readProcessMemory();
  ::munmap(mapping, size);
  const ProcessMemory unmapped = readProcessMemory();

  const std::int64_t expected = kPages * page;
  const double slack = expected / 8.0;
  // statm's RSS is the kernel's approximate per-CPU counter; USS counts a file-backed page
  // as private only while no other process maps it, so it moves when, say, a parallel
  // test starts. Both are "about N pages", not exactly.
  EXPECT_NEAR(static_cast<double>(touched.rss - mapped.rss), static_cast<double>(expected), slack);
  EXPECT_NEAR(static_cast<double>(touched.uss - mapped.uss), static_cast<double>(expected), slack);
  EXPECT_NEAR(static_cast<double>(touched.rss - unmapped.rss), static_cast<double>(expected), slack);
  EXPECT_NEAR(static_cast<double>(touched.uss - unmapped.uss), static_cast<double>(expected), slack);
  EXPECT_GE(mapped.vms - before.vms, expected);
  EXPECT_EQ(unmapped.vms - before.vms, 0);
}

}  // namespace
}  // namespace psleak::platform
