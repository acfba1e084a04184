// The live counters as a whole: present and readable through both interfaces, exact
// under concurrent threads (a block may be freed by another thread than the one that
// allocated it), and silent while counting is turned off.

#include <gtest/gtest.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>

#include "alloc_hook_test_support.h"
#include "psleak/platform/allocation_counters.h"

namespace psleak::hooktest {
namespace {

constexpr int kThreads = 8;
constexpr int kMaxThreads = 64;

// Starting and joining threads is itself allocation, by glibc: each new thread stack
// gets a TLS vector (calloc), which stays with the stack in glibc's stack cache after the
// join and is freed when the stack is evicted from that cache (40 MiB in all). With
// default 8 MiB stacks only a few stay cached, so every round of 8 threads allocates some
// vectors and frees others; equal requests can get usable sizes 16 bytes apart, so the
// bytes drift by +-16 now and then. Hence threads here run on small stacks, which all
// stay cached: after one warm-up round of the same number of threads, a round reuses the
// same cached stacks and vectors, and starting and joining it allocates nothing that
// outlives it. ThreadStartAndJoinAloneBalanceAfterWarmUp checks that assumption alone.
// The helper allocates nothing itself: the callable stays where the caller put it.
constexpr std::size_t kThreadStack = 256 * 1024;

template <typename Body>
void runThreads(int count, Body& body) {
  struct Start {
    Body* body;
    int index;
  };
  Start starts[kMaxThreads];
  pthread_t ids[kMaxThreads];
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setstacksize(&attr, kThreadStack);
  int started = 0;
  for (; started < count && started < kMaxThreads; ++started) {
    starts[started] = Start{&body, started};
    const int error = ::pthread_create(
        &ids[started], &attr,
        [](void* arg) -> void* {
          const Start* start = static_cast<Start*>(arg);
          (*start->body)(start->index);
          return nullptr;
        },
        &starts[started]);
    if (error != 0) break;
  }
  for (int i = 0; i < started; ++i) ::pthread_join(ids[i], nullptr);
  ::pthread_attr_destroy(&attr);
  if (started != count) std::abort();  // cannot happen with the counts used here
}

void warmUpThreads(int count) {
  auto body = [](int) { vFree(vMalloc(8)); };
  runThreads(count, body);
}

TEST(AllocHookCounters, HooksAreActiveInThisBinary) {
  EXPECT_TRUE(platform::allocationHooksActive());
  EXPECT_EQ(psleak_hooks_counting(), 1);
  const std::optional<platform::AllocationCounters> counters = platform::readAllocationCounters();
  ASSERT_TRUE(counters.has_value());
  EXPECT_GT(counters->liveBlocks, 0);  // gtest's own objects at least
  EXPECT_GT(counters->liveBytes, 0);
  EXPECT_GE(counters->mappedBytes, 0);
}

TEST(AllocHookCounters, CppReaderAgreesWithTheCInterface) {
  // Neither read allocates, so nothing can happen between them.
  const PsleakAllocationCounters raw = readCounters();
  const std::optional<platform::AllocationCounters> cpp = platform::readAllocationCounters();
  ASSERT_TRUE(cpp.has_value());
  EXPECT_EQ(cpp->liveBlocks, raw.liveBlocks);
  EXPECT_EQ(cpp->liveBytes, raw.liveBytes);
  EXPECT_EQ(cpp->mappedBytes, raw.mappedBytes);
}

TEST(AllocHookCounters, ThreadStartAndJoinAloneBalanceAfterWarmUp) {
  auto body = [](int) { vFree(vMalloc(8)); };
  warmUpThreads(kThreads);
  const PsleakAllocationCounters before = readCounters();
  runThreads(kThreads, body);
  const PsleakAllocationCounters after = readCounters();
  EXPECT_EQ(after - before, kNoChange);
}

// Each thread keeps a small window of live blocks of varied sizes (one above glibc's
// mmap threshold) and replaces one per iteration: 100k malloc/free pairs per thread,
// balanced when it ends.
void churn(unsigned seed) {
  constexpr std::size_t kSizes[] = {1, 8, 24, 40, 100, 256, 500, 1000, 4000, 20000, 200000};
  constexpr int kPairs = 100000;
  constexpr int kWindow = 16;
  void* window[kWindow] = {};
  unsigned state = seed * 2654435761u + 1;
  for (int i = 0; i < kPairs; ++i) {
    state = state * 1664525u + 1013904223u;
    const int slot = static_cast<int>((state >> 8) % kWindow);
    if (window[slot]) vFree(window[slot]);
    const std::size_t size = kSizes[(state >> 16) % (sizeof kSizes / sizeof kSizes[0])];
    window[slot] = vMalloc(size);
    if (window[slot]) static_cast<volatile char*>(window[slot])[0] = 1;
  }
  for (void* p : window) vFree(p);
}

TEST(AllocHookCounters, EightThreadsOfMallocFreePairsLeaveCountersUnchanged) {
  auto body = [](int index) { churn(static_cast<unsigned>(index)); };
  warmUpThreads(kThreads);
  const PsleakAllocationCounters before = readCounters();
  runThreads(kThreads, body);
  const PsleakAllocationCounters after = readCounters();
  EXPECT_EQ(after - before, kNoChange);
}

TEST(AllocHookCounters, BlocksLeftByThreadsAreCountedAndFreedFromAnotherThread) {
  constexpr int kBlocksPerThread = 1000;
  using Blocks = std::array<void*, kBlocksPerThread>;
  auto blocks = std::make_unique<std::array<Blocks, kThreads>>();
  auto allocate = [&blocks](int t) {
    Blocks& mine = (*blocks)[t];
    for (int i = 0; i < kBlocksPerThread; ++i) {
      mine[i] = vMalloc(8 + static_cast<std::size_t>((t * kBlocksPerThread + i) * 37 % 3000));
    }
  };
  // One thread that allocated none of them frees them all.
  auto freeAll = [&blocks](int) {
    for (Blocks& mine : *blocks) {
      for (void*& p : mine) {
        vFree(p);
        p = nullptr;
      }
    }
  };
  warmUpThreads(kThreads);

  const PsleakAllocationCounters start = readCounters();
  runThreads(kThreads, allocate);
  const PsleakAllocationCounters allocated = readCounters();

  std::int64_t usableSum = 0;
  bool allAllocated = true;
  for (const Blocks& mine : *blocks) {
    for (void* p : mine) {
      allAllocated = allAllocated && p != nullptr;
      usableSum += usable(p);
    }
  }

  const PsleakAllocationCounters beforeFree = readCounters();
  runThreads(1, freeAll);
  const PsleakAllocationCounters freed = readCounters();

  ASSERT_TRUE(allAllocated);
  EXPECT_EQ(allocated - start, (Delta{kThreads * kBlocksPerThread, usableSum, 0}));
  EXPECT_EQ(beforeFree - allocated, kNoChange);
  EXPECT_EQ(freed - start, kNoChange);
}

// More threads over time than the hooks' registry of live threads holds (4096): each
// thread's counts are folded into the shared totals when it exits and its registry slot
// is taken by a later thread. Each thread leaves 3 of its 5 blocks for the main thread
// to free, so its exit folds counts that are not zero.
TEST(AllocHookCounters, ThreadsBeyondTheRegistryStayExact) {
  constexpr int kTotal = 4200;
  constexpr int kBatch = 50;
  constexpr int kLeft = 3;
  auto left = std::make_unique<std::array<std::array<void*, kLeft>, kTotal>>();
  int first = 0;
  auto work = [&left, &first](int index) {
    const int t = first + index;
    void* scratch[2] = {vMalloc(static_cast<std::size_t>(t % 500)), vCalloc(3, 17)};
    for (int i = 0; i < kLeft; ++i) (*left)[t][i] = vMalloc(static_cast<std::size_t>(64 * (i + 1)));
    vFree(scratch[0]);
    vFree(scratch[1]);
  };
  warmUpThreads(kBatch);

  const PsleakAllocationCounters start = readCounters();
  for (first = 0; first < kTotal; first += kBatch) runThreads(kBatch, work);
  const PsleakAllocationCounters allocated = readCounters();
  std::int64_t usableSum = 0;
  for (const auto& mine : *left) {
    for (void* p : mine) usableSum += usable(p);
  }
  for (auto& mine : *left) {
    for (void* p : mine) vFree(p);
  }
  const PsleakAllocationCounters freed = readCounters();

  EXPECT_EQ(allocated - start, (Delta{kTotal * kLeft, usableSum, 0}));
  EXPECT_EQ(freed - start, kNoChange);
}

// Counting turned off by one thread stops it in every thread, at that thread's next
// allocation, and turned on again resumes it there.
TEST(AllocHookCounters, CountingSwitchReachesOtherThreads) {
  std::atomic<int> step{0};
  void* whileOff = nullptr;
  void* whileOn = nullptr;
  std::int64_t whileOnBytes = 0;
  auto waitFor = [&step](int value) {
    while (step.load() != value) std::this_thread::yield();
  };
  auto worker = [&](int) {
    vFree(vMalloc(16));  // registered, on the fast path
    step.store(1);
    waitFor(2);
    whileOff = vMalloc(100);
    step.store(3);
    waitFor(4);
    whileOn = vMalloc(200);
    whileOnBytes = usable(whileOn);
    step.store(5);
  };
  auto controller = [&](int index) {
    if (index == 1) {
      worker(index);
      return;
    }
    waitFor(1);
    psleak_hooks_set_counting(0);
    step.store(2);
    waitFor(3);
    psleak_hooks_set_counting(1);
    step.store(4);
    waitFor(5);
  };
  warmUpThreads(2);
  const PsleakAllocationCounters start = readCounters();
  runThreads(2, controller);
  const PsleakAllocationCounters after = readCounters();
  psleak_hooks_set_counting(0);
  vFree(whileOff);  // never counted: freed uncounted too
  psleak_hooks_set_counting(1);
  vFree(whileOn);
  const PsleakAllocationCounters freed = readCounters();

  EXPECT_EQ(after - start, (Delta{1, whileOnBytes, 0}));
  EXPECT_EQ(freed - start, kNoChange);
}

TEST(AllocHookCounters, CountingOffLeavesCountersStill) {
  const PsleakAllocationCounters before = readCounters();
  psleak_hooks_set_counting(0);
  const int countingWhileOff = psleak_hooks_counting();
  const bool activeWhileOff = platform::allocationHooksActive();
  const bool cppReadableWhileOff = platform::readAllocationCounters().has_value();
  void* p = vMalloc(1000);
  void* q = vCalloc(4, 100);
  q = vRealloc(q, 5000);
  void* mapping = ::mmap(nullptr, 8 * kPage, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const PsleakAllocationCounters whileOff = readCounters();
  vFree(p);
  vFree(q);
  ::munmap(mapping, 8 * kPage);
  const PsleakAllocationCounters afterFreesOff = readCounters();
  psleak_hooks_set_counting(1);

  // Counting again: the next allocation moves the counters.
  const PsleakAllocationCounters beforeOn = readCounters();
  void* r = vMalloc(1000);
  const PsleakAllocationCounters whileOn = readCounters();
  const std::int64_t bytes = usable(r);
  vFree(r);
  const PsleakAllocationCounters afterOn = readCounters();

  EXPECT_EQ(countingWhileOff, 0);
  EXPECT_FALSE(activeWhileOff);
  EXPECT_FALSE(cppReadableWhileOff);
  EXPECT_NE(mapping, MAP_FAILED);
  EXPECT_EQ(whileOff - before, kNoChange);
  EXPECT_EQ(afterFreesOff - before, kNoChange);
  EXPECT_EQ(psleak_hooks_counting(), 1);
  EXPECT_TRUE(platform::allocationHooksActive());
  EXPECT_EQ(whileOn - beforeOn, (Delta{1, bytes, 0}));
  EXPECT_EQ(afterOn - beforeOn, kNoChange);
}

}  // namespace
}  // namespace psleak::hooktest
