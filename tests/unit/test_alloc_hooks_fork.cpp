// fork() with the hooks in place: the child inherits the counters and can allocate,
// free, map and read them, even when the fork happens while another thread is inside a
// hook holding one of the hooks' locks. A child reports by its exit status; the parent
// asserts it. A child that deadlocks is killed after a generous deadline and reported
// as such (the deadline only turns a hang into a failure; nothing is timed).

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "alloc_hook_test_support.h"

namespace psleak::hooktest {
namespace {

constexpr int kChildHung = -1;

// The child's exit status, or kChildHung if it had not exited after a minute (then it
// is killed and reaped).
int waitForChild(pid_t pid) {
  const timespec pause{0, 1000000};  // 1 ms
  for (int waited = 0; waited < 60000; ++waited) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0) return 255;
    ::nanosleep(&pause, nullptr);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return kChildHung;
}

// The child's checks, one bit each in the exit status.
enum ChildFailure : int {
  kInheritedCountersDiffer = 1 << 0,
  kMallocFailed = 1 << 1,
  kMallocMiscounted = 1 << 2,
  kFreeMiscounted = 1 << 3,
  kMmapMiscounted = 1 << 4,
  kMunmapMiscounted = 1 << 5,
};

int childChecks(const PsleakAllocationCounters& atFork) {
  int failures = 0;
  const PsleakAllocationCounters inherited = readCounters();
  if (!(inherited - atFork == kNoChange)) failures |= kInheritedCountersDiffer;

  const PsleakAllocationCounters before = readCounters();
  void* blocks[3] = {vMalloc(100), vCalloc(1, 5000), vMalloc(300000)};
  const PsleakAllocationCounters allocated = readCounters();
  std::int64_t bytes = 0;
  for (void* p : blocks) {
    if (!p) failures |= kMallocFailed;
    bytes += usable(p);
  }
  if (!(allocated - before == Delta{3, bytes, 0})) failures |= kMallocMiscounted;
  for (void* p : blocks) vFree(p);
  const PsleakAllocationCounters freed = readCounters();
  if (!(freed - before == kNoChange)) failures |= kFreeMiscounted;

  void* mapping = ::mmap(nullptr, 4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
  const PsleakAllocationCounters mapped = readCounters();
  if (mapping == MAP_FAILED || !(mapped - freed == Delta{0, 0, 4 * kPage})) {
    failures |= kMmapMiscounted;
  }
  ::munmap(mapping, 4 * kPage);
  const PsleakAllocationCounters unmapped = readCounters();
  if (!(unmapped - freed == kNoChange)) failures |= kMunmapMiscounted;
  return failures;
}

TEST(AllocHookFork, ChildInheritsCountersAndCountsItsOwnWork) {
  // A block the parent holds across the fork: the child sees it counted and may free its
  // copy, which the parent's counters never see.
  void* held = vMalloc(777);
  ASSERT_NE(held, nullptr);
  const std::int64_t heldBytes = usable(held);

  const PsleakAllocationCounters atFork = readCounters();
  const pid_t pid = ::fork();
  if (pid == 0) {
    int failures = childChecks(atFork);
    const PsleakAllocationCounters beforeFree = readCounters();
    vFree(held);
    const PsleakAllocationCounters afterFree = readCounters();
    if (!(afterFree - beforeFree == Delta{-1, -heldBytes, 0})) failures |= 1 << 6;
    ::_exit(failures);
  }
  const PsleakAllocationCounters parentAfterFork = readCounters();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitForChild(pid), 0);
  EXPECT_EQ(parentAfterFork - atFork, kNoChange);  // fork itself allocates nothing here
  vFree(held);
}

// A thread that is registered with the hooks and holds live blocks when the parent
// forks does not exist in the child: the child keeps its counts (the blocks are in the
// child's copy of the heap) and the child's own new threads count exactly.
TEST(AllocHookFork, OtherThreadsCountsSurviveInTheChild) {
  std::atomic<int> step{0};
  void* held[4] = {};
  std::thread holder([&] {
    for (void*& p : held) p = vMalloc(300);
    step.store(1);
    while (step.load() != 2) std::this_thread::yield();
  });
  while (step.load() != 1) std::this_thread::yield();
  const PsleakAllocationCounters atFork = readCounters();
  const pid_t pid = ::fork();
  if (pid == 0) {
    int failures = 0;
    if (!(readCounters() - atFork == kNoChange)) failures |= 1;
    void* fromThread = nullptr;
    std::int64_t bytes = 0;
    const PsleakAllocationCounters before = readCounters();
    pthread_t id;
    if (::pthread_create(
            &id, nullptr,
            [](void* out) -> void* {
              *static_cast<void**>(out) = vMalloc(500);
              return nullptr;
            },
            &fromThread) != 0) {
      ::_exit(64);
    }
    ::pthread_join(id, nullptr);
    bytes = usable(fromThread);
    const PsleakAllocationCounters after = readCounters();
    // Thread start-up may allocate and free; what stays is the one block.
    if (after.liveBlocks - before.liveBlocks < 1) failures |= 2;
    vFree(fromThread);
    const PsleakAllocationCounters freed = readCounters();
    if (!(after - freed == Delta{1, bytes, 0})) failures |= 4;
    ::_exit(failures);
  }
  step.store(2);
  holder.join();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitForChild(pid), 0);
  for (void* p : held) vFree(p);
}

// A thread keeps the hooks busy (and their locks taken) while the main thread forks 20
// times; every child must be able to use the hooks and exit.
class BusyThread {
 public:
  explicit BusyThread(bool mapToo) : thread_([this, mapToo] { run(mapToo); }) {
    while (iterations_.load() == 0) std::this_thread::yield();
  }
  ~BusyThread() {
    stop_.store(true);
    thread_.join();
  }
  std::uint64_t iterations() const { return iterations_.load(); }

 private:
  void run(bool mapToo) {
    std::uint64_t n = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
      void* a = vMalloc(16 + n % 4000);
      void* b = vCalloc(1, 64);
      b = vRealloc(b, 200 + n % 100);
      vFree(a);
      vFree(b);
      if (mapToo && n % 8 == 0) {
        void* m = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) ::munmap(m, kPage);
      }
      iterations_.store(++n, std::memory_order_relaxed);
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> iterations_{0};
  std::thread thread_;
};

// The child of a multi-threaded parent: only async-signal-safe work besides the hooks.
int busyChild() {
  int failures = 0;
  const PsleakAllocationCounters before = readCounters();
  void* p = vMalloc(512);
  const PsleakAllocationCounters allocated = readCounters();
  const std::int64_t bytes = usable(p);
  vFree(p);
  const PsleakAllocationCounters freed = readCounters();
  if (!p) failures |= kMallocFailed;
  if (!(allocated - before == Delta{1, bytes, 0})) failures |= kMallocMiscounted;
  if (!(freed - before == kNoChange)) failures |= kFreeMiscounted;
  void* m = ::mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const PsleakAllocationCounters mapped = readCounters();
  ::munmap(m, 2 * kPage);
  const PsleakAllocationCounters unmapped = readCounters();
  if (!(mapped - freed == Delta{0, 0, 2 * kPage})) failures |= kMmapMiscounted;
  if (!(unmapped - freed == kNoChange)) failures |= kMunmapMiscounted;
  return failures;
}

void forkRepeatedlyWhileBusy(bool mapToo) {
  constexpr int kForks = 20;
  int statuses[kForks];
  std::uint64_t iterationsAtEnd = 0;
  {
    BusyThread busy(mapToo);
    for (int i = 0; i < kForks; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) ::_exit(busyChild());
      statuses[i] = pid > 0 ? waitForChild(pid) : 254;
    }
    iterationsAtEnd = busy.iterations();
  }
  EXPECT_GT(iterationsAtEnd, 0u);
  for (int i = 0; i < kForks; ++i) {
    EXPECT_NE(statuses[i], kChildHung) << "child " << i << " deadlocked";
    EXPECT_EQ(statuses[i], 0) << "child " << i;
  }
}

TEST(AllocHookFork, RepeatedForksWhileAnotherThreadAllocates) { forkRepeatedlyWhileBusy(false); }

TEST(AllocHookFork, RepeatedForksWhileAnotherThreadMaps) { forkRepeatedlyWhileBusy(true); }

// With tracing on, every allocation takes the trace lock: a fork while the busy thread
// holds it must not leave it held in the child, whose own allocations are traced too.
TEST(AllocHookFork, RepeatedForksWhileAnotherThreadIsTraced) {
  ASSERT_EQ(psleak_hooks_trace_start(1 << 12), 1);
  forkRepeatedlyWhileBusy(true);
  std::size_t live = 0;
  const std::size_t dropped = psleak_hooks_trace_drain(
      [](const PsleakTracedAllocation*, void* context) { ++*static_cast<std::size_t*>(context); },
      &live);
  EXPECT_EQ(dropped, 0u);
}

}  // namespace
}  // namespace psleak::hooktest
