// Allocation tracing: while on, every allocation's stack is recorded in a table keyed by
// address; frees remove their entry; the drain visits exactly what is still live, and
// counts what did not fit. Through the C interface and through the C++ reader.
//
// Between starting a trace and draining it, the test thread makes no allocation other
// than the ones under test (no gtest macro, no container growth) and no other thread
// runs, so the table's contents are exact.

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdint>
#include <cstring>
#include <algorithm>
#include <string>
#include <thread>

#include "alloc_hook_test_support.h"
#include "psleak/platform/allocation_counters.h"

// Named allocation sites, found again in the recorded stacks by name (the test binary
// exports its symbols, so dladdr can name them). extern "C" keeps the names plain.
extern "C" {

__attribute__((noinline, noclone)) void psleak_test_trace_site_ten(void** out,
                                                                  std::size_t* sizes) {
  for (int i = 0; i < 10; ++i) {
    out[i] = psleak::hooktest::vMalloc(sizes[i]);
    psleak::hooktest::keep(out[i]);
  }
  asm volatile("");  // no tail call: this frame stays on the stack of every malloc above
}

__attribute__((noinline, noclone)) void psleak_test_trace_site_many(void** out, int count) {
  for (int i = 0; i < count; ++i) {
    out[i] = psleak::hooktest::vMalloc(32);
    psleak::hooktest::keep(out[i]);
  }
  asm volatile("");
}

__attribute__((noinline, noclone)) void psleak_test_trace_site_cpp(void** out, int count) {
  for (int i = 0; i < count; ++i) {
    out[i] = psleak::hooktest::vMalloc(1000 + 100 * static_cast<std::size_t>(i));
    psleak::hooktest::keep(out[i]);
  }
  asm volatile("");
}
}

namespace psleak::hooktest {
namespace {

// Collects drained records into fixed storage: the visitor allocates nothing.
struct Collected {
  static constexpr int kMax = 4096;
  PsleakTracedAllocation records[kMax];
  int count = 0;
  int overflow = 0;
};

void collect(const PsleakTracedAllocation* record, void* context) {
  auto* collected = static_cast<Collected*>(context);
  if (collected->count < Collected::kMax) {
    collected->records[collected->count++] = *record;
  } else {
    ++collected->overflow;
  }
}

void countOnly(const PsleakTracedAllocation*, void* context) { ++*static_cast<int*>(context); }

const PsleakTracedAllocation* findRecord(const Collected& collected, const void* address) {
  for (int i = 0; i < collected.count; ++i) {
    if (collected.records[i].address == reinterpret_cast<std::uintptr_t>(address)) {
      return &collected.records[i];
    }
  }
  return nullptr;
}

// Whether one of the return addresses lies in the function named `name`.
bool framesInclude(const std::uintptr_t* frames, int count, const char* name) {
  for (int i = 0; i < count; ++i) {
    Dl_info info{};
    // A return address points after the call; the call itself is one byte before.
    if (::dladdr(reinterpret_cast<void*>(frames[i] - 1), &info) != 0 && info.dli_sname &&
        std::strcmp(info.dli_sname, name) == 0) {
      return true;
    }
  }
  return false;
}

class AllocHookTrace : public ::testing::Test {
 protected:
  void TearDown() override {
    // Never leave a trace running into the next test.
    int ignored = 0;
    psleak_hooks_trace_drain(countOnly, &ignored);
  }
  Collected collected_;
};

TEST_F(AllocHookTrace, DrainReturnsExactlyTheLiveBlocksWithTheirStacks) {
  std::size_t sizes[10];
  for (int i = 0; i < 10; ++i) sizes[i] = 40 + 200 * static_cast<std::size_t>(i);
  void* blocks[10] = {};

  const int started = psleak_hooks_trace_start(1 << 12);
  psleak_test_trace_site_ten(blocks, sizes);
  for (int i = 0; i < 10; i += 2) vFree(blocks[i]);
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);

  ASSERT_EQ(started, 1);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(collected_.count, 5);
  for (int i = 1; i < 10; i += 2) {
    const PsleakTracedAllocation* record = findRecord(collected_, blocks[i]);
    ASSERT_NE(record, nullptr) << "block " << i;
    EXPECT_EQ(static_cast<std::int64_t>(record->size), usable(blocks[i])) << "block " << i;
    EXPECT_GE(record->size, sizes[i]);
    EXPECT_GT(record->frameCount, 0);
    EXPECT_LE(record->frameCount, kPsleakMaxTraceFrames);
    EXPECT_TRUE(framesInclude(record->frames, record->frameCount, "psleak_test_trace_site_ten"))
        << "block " << i;
  }
  for (int i = 0; i < 10; i += 2) EXPECT_EQ(findRecord(collected_, blocks[i]), nullptr);
  for (int i = 1; i < 10; i += 2) vFree(blocks[i]);
}

TEST_F(AllocHookTrace, TracingDoesNotDisturbTheCounters) {
  // The first trace in a process warms up the unwinder (glibc loads libgcc_s for it),
  // which allocates once and keeps that; later traces allocate nothing of their own.
  int warmUp = 0;
  ASSERT_EQ(psleak_hooks_trace_start(1 << 12), 1);
  psleak_hooks_trace_drain(countOnly, &warmUp);

  std::size_t sizes[10];
  for (int i = 0; i < 10; ++i) sizes[i] = 8 + 100 * static_cast<std::size_t>(i);
  void* blocks[10] = {};
  const PsleakAllocationCounters before = readCounters();
  const int started = psleak_hooks_trace_start(1 << 12);
  psleak_test_trace_site_ten(blocks, sizes);
  const PsleakAllocationCounters during = readCounters();
  std::int64_t usableSum = 0;
  for (void* p : blocks) usableSum += usable(p);
  for (void* p : blocks) vFree(p);
  int live = 0;
  psleak_hooks_trace_drain(countOnly, &live);
  const PsleakAllocationCounters after = readCounters();

  ASSERT_EQ(started, 1);
  EXPECT_EQ(during - before, (Delta{10, usableSum, 0}));
  EXPECT_EQ(live, 0);
  // The table is mapped with the system call, outside the heap and mappedBytes.
  EXPECT_EQ(after - before, kNoChange);
}

TEST_F(AllocHookTrace, BlocksFromBeforeTheTraceAreNeitherReportedNorDisturbing) {
  void* old = vMalloc(123);
  ASSERT_NE(old, nullptr);
  const int started = psleak_hooks_trace_start(1 << 12);
  vFree(old);  // allocated before the trace: nothing to erase
  void* fresh = vMalloc(64);
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);

  ASSERT_EQ(started, 1);
  EXPECT_EQ(dropped, 0u);
  ASSERT_EQ(collected_.count, 1);
  EXPECT_EQ(collected_.records[0].address, reinterpret_cast<std::uintptr_t>(fresh));
  vFree(fresh);
}

TEST_F(AllocHookTrace, ReallocMovesTheRecordToTheNewBlock) {
  const int started = psleak_hooks_trace_start(1 << 12);
  void* p = vMalloc(16);
  void* q = vRealloc(p, 50000);  // grows out of place
  void* r = vMalloc(64);
  void* failed = vRealloc(r, SIZE_MAX - 4096);  // fails: r lives on
  void* s = vCalloc(2, 64);
  void* gone = vRealloc(s, 0);  // frees s
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);

  ASSERT_EQ(started, 1);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(failed, nullptr);
  EXPECT_EQ(gone, nullptr);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(collected_.count, 2);
  const PsleakTracedAllocation* moved = findRecord(collected_, q);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(static_cast<std::int64_t>(moved->size), usable(q));
  if (q != p) {
    EXPECT_EQ(findRecord(collected_, p), nullptr);
  }
  const PsleakTracedAllocation* kept = findRecord(collected_, r);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(static_cast<std::int64_t>(kept->size), usable(r));
  vFree(q);
  vFree(r);
}

TEST_F(AllocHookTrace, EveryFamilyFunctionIsTraced) {
  void* out = nullptr;
  const int started = psleak_hooks_trace_start(1 << 12);
  void* blocks[] = {vMalloc(10),         vCalloc(3, 10),      vRealloc(nullptr, 30),
                    vReallocarray(nullptr, 4, 10), vAlignedAlloc(64, 64), vMemalign(128, 10),
                    vValloc(10),         vPvalloc(10),        nullptr};
  const int result = vPosixMemalign(&out, 32, 10);
  blocks[8] = out;
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);

  ASSERT_EQ(started, 1);
  ASSERT_EQ(result, 0);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(collected_.count, 9);
  for (void* p : blocks) {
    const PsleakTracedAllocation* record = findRecord(collected_, p);
    EXPECT_NE(record, nullptr);
    if (record) {
      EXPECT_EQ(static_cast<std::int64_t>(record->size), usable(p));
    }
    vFree(p);
  }
}

TEST_F(AllocHookTrace, AFullTableCountsWhatItDropped) {
  constexpr int kBlocks = 2000;
  static void* blocks[kBlocks];
  int live = 0;
  const int started = psleak_hooks_trace_start(1024);  // room for fewer than kBlocks
  psleak_test_trace_site_many(blocks, kBlocks);
  const std::size_t dropped = psleak_hooks_trace_drain(countOnly, &live);
  for (void* p : blocks) vFree(p);

  ASSERT_EQ(started, 1);
  EXPECT_GT(dropped, 0u);
  EXPECT_GT(live, 0);
  EXPECT_LE(live, 1024);
  EXPECT_EQ(static_cast<std::size_t>(live) + dropped, static_cast<std::size_t>(kBlocks));
}

TEST_F(AllocHookTrace, FreesMakeRoomInAFullTable) {
  // Fill the table, free everything, fill it again: the backward-shift deletion leaves
  // the table consistent and reusable, with nothing dropped.
  constexpr int kBlocks = 700;  // under three quarters of 1024
  static void* blocks[kBlocks];
  const int started = psleak_hooks_trace_start(1024);
  for (int round = 0; round < 5; ++round) {
    psleak_test_trace_site_many(blocks, kBlocks);
    // Free in an order unlike the allocation order, to exercise wrapped probe runs.
    for (int i = 0; i < kBlocks; i += 3) vFree(blocks[i]);
    for (int i = 1; i < kBlocks; i += 3) vFree(blocks[i]);
    if (round < 4) {
      for (int i = 2; i < kBlocks; i += 3) vFree(blocks[i]);
    }
  }
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);
  bool allFound = true;
  for (int i = 2; i < kBlocks; i += 3) allFound = allFound && findRecord(collected_, blocks[i]);
  for (int i = 2; i < kBlocks; i += 3) vFree(blocks[i]);

  ASSERT_EQ(started, 1);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(collected_.count, kBlocks / 3);  // indices 2, 5, ..., 698
  EXPECT_TRUE(allFound);
}

TEST_F(AllocHookTrace, StoppedTraceRecordsNothingNewButForgetsFrees) {
  void* blocks[3] = {};
  const int started = psleak_hooks_trace_start(1 << 12);
  blocks[0] = vMalloc(100);
  blocks[1] = vMalloc(200);
  psleak_hooks_trace_stop();
  vFree(blocks[0]);            // recorded, now freed: no longer live
  blocks[2] = vMalloc(300);    // after the stop: not recorded
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);

  ASSERT_EQ(started, 1);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(findRecord(collected_, blocks[2]), nullptr) << "recorded after the stop";
  EXPECT_NE(findRecord(collected_, blocks[1]), nullptr);
  EXPECT_EQ(collected_.count, 1) << "the drain must visit only allocations still live";
  vFree(blocks[1]);
  vFree(blocks[2]);
}

TEST_F(AllocHookTrace, ReallocAfterTheStopForgetsTheOldBlockAndRecordsNothingNew) {
  const int started = psleak_hooks_trace_start(1 << 12);
  void* grown = vMalloc(16);
  void* failing = vMalloc(32);
  psleak_hooks_trace_stop();
  void* moved = vRealloc(grown, 100000);                // traced block, resized after the stop
  void* failed = vRealloc(failing, SIZE_MAX - 4096);   // fails: `failing` stays recorded
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);

  ASSERT_EQ(started, 1);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(failed, nullptr);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(collected_.count, 1);
  EXPECT_NE(findRecord(collected_, failing), nullptr);
  EXPECT_EQ(findRecord(collected_, moved), nullptr);
  vFree(moved);
  vFree(failing);
}

TEST_F(AllocHookTrace, FailedReallocOfABlockFromBeforeTheTraceRecordsNothing) {
  void* old = vMalloc(40);
  ASSERT_NE(old, nullptr);
  const int started = psleak_hooks_trace_start(1 << 12);
  void* failed = vRealloc(old, SIZE_MAX - 4096);
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);
  vFree(old);

  ASSERT_EQ(started, 1);
  EXPECT_EQ(failed, nullptr);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(collected_.count, 0);
}

TEST_F(AllocHookTrace, DrainWithoutATraceVisitsNothing) {
  int live = 0;
  EXPECT_EQ(psleak_hooks_trace_drain(countOnly, &live), 0u);
  EXPECT_EQ(live, 0);
}

TEST_F(AllocHookTrace, TracesThreadsToo) {
  constexpr int kThreads = 4;
  static void* blocks[kThreads][50];
  const int started = psleak_hooks_trace_start(1 << 12);
  std::thread threads[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    threads[t] = std::thread([t] {
      for (int round = 0; round < 20; ++round) {
        for (void*& p : blocks[t]) p = vMalloc(24 + static_cast<std::size_t>(t));
        if (round < 19) {
          for (void* p : blocks[t]) vFree(p);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);
  int found = 0;
  for (auto& mine : blocks) {
    for (void* p : mine) found += findRecord(collected_, p) != nullptr;
  }
  for (auto& mine : blocks) {
    for (void* p : mine) vFree(p);
  }

  ASSERT_EQ(started, 1);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(found, kThreads * 50);
}

TEST(AllocHookTraceCpp, StartAndFinishThroughTheCppReader) {
  constexpr int kBlocks = 7;
  void* blocks[kBlocks] = {};
  const bool started = platform::startAllocationTrace(1 << 12);
  psleak_test_trace_site_cpp(blocks, kBlocks);
  vFree(blocks[0]);
  platform::AllocationTrace trace = platform::finishAllocationTrace();

  ASSERT_TRUE(started);
  EXPECT_EQ(trace.dropped, 0u);
  ASSERT_EQ(trace.live.size(), static_cast<std::size_t>(kBlocks - 1));
  // The records carry no address: match them by their (distinct) sizes.
  for (int i = 1; i < kBlocks; ++i) {
    const std::size_t expected = static_cast<std::size_t>(usable(blocks[i]));
    int matches = 0;
    for (const platform::TracedAllocation& allocation : trace.live) {
      if (allocation.size != expected) continue;
      ++matches;
      EXPECT_FALSE(allocation.frames.empty());
      EXPECT_TRUE(framesInclude(allocation.frames.data(), static_cast<int>(allocation.frames.size()),
                                "psleak_test_trace_site_cpp"));
    }
    EXPECT_EQ(matches, 1) << "block " << i << " of usable size " << expected;
  }
  for (int i = 1; i < kBlocks; ++i) vFree(blocks[i]);

  // Finished: a second finish finds no trace.
  const platform::AllocationTrace again = platform::finishAllocationTrace();
  EXPECT_TRUE(again.live.empty());
  EXPECT_EQ(again.dropped, 0u);
}

// A stand-in for the Python frame recorder: two frames, the inner one's line advancing
// with every allocation, so that each allocation has a stack of its own.
const int gFakeOuterCode = 0;
const int gFakeInnerCode = 0;
int gFakeLine = 0;
int fakePythonFrames(PsleakPythonFrame* out, int max) {
  if (max < 2) return 0;
  out[0] = PsleakPythonFrame{&gFakeInnerCode, ++gFakeLine};
  out[1] = PsleakPythonFrame{&gFakeOuterCode, 7};
  return 2;
}

TEST_F(AllocHookTrace, PythonFramesReaderIsCopiedIntoEveryRecord) {
  std::size_t sizes[10];
  for (int i = 0; i < 10; ++i) sizes[i] = 24;
  void* blocks[10] = {};
  gFakeLine = 100;

  psleak_hooks_set_python_frames_reader(fakePythonFrames);
  const int started = psleak_hooks_trace_start(1 << 12);
  psleak_test_trace_site_ten(blocks, sizes);
  psleak_hooks_set_python_frames_reader(nullptr);
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);

  ASSERT_EQ(started, 1);
  EXPECT_EQ(dropped, 0u);
  bool linesSeen[10] = {};
  for (int i = 0; i < 10; ++i) {
    const PsleakTracedAllocation* record = findRecord(collected_, blocks[i]);
    ASSERT_NE(record, nullptr) << "block " << i;
    ASSERT_EQ(record->pythonFrameCount, 2) << "block " << i;
    EXPECT_EQ(record->pythonFrames[0].code, &gFakeInnerCode);
    EXPECT_EQ(record->pythonFrames[1].code, &gFakeOuterCode);
    EXPECT_EQ(record->pythonFrames[1].line, 7);
    const int line = record->pythonFrames[0].line;
    ASSERT_TRUE(line > 100 && line <= 110) << line;
    EXPECT_FALSE(linesSeen[line - 101]) << "two blocks recorded with line " << line;
    linesSeen[line - 101] = true;
    EXPECT_TRUE(framesInclude(record->frames, record->frameCount, "psleak_test_trace_site_ten"));
  }
  for (void* block : blocks) vFree(block);
}

TEST_F(AllocHookTrace, SameStackIsStoredOnceAndSharedByItsAllocations) {
  constexpr int kBlocks = 2000;
  static void* blocks[kBlocks];
  const int started = psleak_hooks_trace_start(1 << 14);
  psleak_test_trace_site_many(blocks, kBlocks);
  const std::size_t dropped = psleak_hooks_trace_drain(collect, &collected_);

  ASSERT_EQ(started, 1);
  EXPECT_EQ(dropped, 0u);
  ASSERT_EQ(collected_.count, kBlocks);
  const PsleakTracedAllocation& first = collected_.records[0];
  EXPECT_EQ(first.pythonFrameCount, 0);
  EXPECT_TRUE(framesInclude(first.frames, first.frameCount, "psleak_test_trace_site_many"));
  // One loop, one call site: every block has the same stack, frame for frame.
  for (int i = 1; i < collected_.count; ++i) {
    const PsleakTracedAllocation& record = collected_.records[i];
    ASSERT_EQ(record.frameCount, first.frameCount) << "record " << i;
    EXPECT_TRUE(std::equal(record.frames, record.frames + record.frameCount, first.frames))
        << "record " << i;
  }
  for (void* block : blocks) vFree(block);
}

TEST(AllocHookUnwinder, LibunwindWhenItLoads) {
  // The test runs without PSLEAK_UNWINDER, so libunwind is chosen wherever it loads.
  void* library = ::dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  const std::string expected = library ? "libunwind" : "backtrace";
  if (library) ::dlclose(library);
  if (::getenv("PSLEAK_UNWINDER")) GTEST_SKIP() << "PSLEAK_UNWINDER is set";
  EXPECT_EQ(psleak_hooks_unwinder(), expected);
}

TEST(AllocHookTraceCpp, NotStartedWhileCountingIsOff) {
  psleak_hooks_set_counting(0);
  const bool started = platform::startAllocationTrace(1 << 12);
  psleak_hooks_set_counting(1);
  if (started) platform::finishAllocationTrace();
  EXPECT_FALSE(started);
}

}  // namespace
}  // namespace psleak::hooktest
