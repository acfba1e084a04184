// The trace table: live allocations in open addressing keyed by address (linear
// probing, backward-shift deletion), their stacks stored once each, under a spin lock
// of its own, in pages mapped with the mmap system call so
// that it never touches the heap it describes. Plus the trace's C interface.

#include "trace_table.h"

#include <pthread.h>

#include "psleak/platform/allocation_hooks_abi.h"
#include "live_counters.h"
#include "stack_unwinder.h"

namespace psleak::hooks {
namespace {

// Every traced allocation refers to its call stack by number; a stack is stored once,
// however many allocations share it (a leak repeats the same few stacks thousands of
// times). The live table's pages are touched up front (MAP_POPULATE): filled at
// random by address, they would otherwise cost a page fault per traced allocation.
struct StackEntry {
  std::uint64_t hash;  // 0: empty
  int frameCount;
  int pythonFrameCount;
  uintptr_t frames[kPsleakMaxTraceFrames];
  PsleakPythonFrame pythonFrames[kPsleakMaxPythonFrames];
};

struct LiveEntry {
  uintptr_t address;  // 0: empty
  size_t size;
  std::uint32_t stack;  // index into TraceTable::stacks
};

constexpr size_t kStackCapacity = size_t{1} << 14;

struct TraceTable {
  LiveEntry* live = nullptr;
  size_t capacity = 0;  // a power of two
  size_t used = 0;
  StackEntry* stacks = nullptr;  // kStackCapacity of them
  size_t stacksUsed = 0;
  size_t dropped = 0;
};

SpinLock gTraceLock;
TraceTable gTrace;
std::atomic<PsleakPythonFramesReader> gPythonFrames{nullptr};
__thread bool tInTrace __attribute__((tls_model("initial-exec"))) = false;

inline size_t slotOf(uintptr_t key, size_t capacity) {
  return static_cast<size_t>((key >> 4) * 0x9E3779B97F4A7C15ull) & (capacity - 1);
}

std::uint64_t hashStack(const StackEntry& stack) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  auto mix = [&hash](std::uint64_t value) { hash = (hash ^ value) * 0x100000001b3ull; };
  for (int i = 0; i < stack.frameCount; ++i) mix(stack.frames[i]);
  for (int i = 0; i < stack.pythonFrameCount; ++i) {
    mix(reinterpret_cast<uintptr_t>(stack.pythonFrames[i].code));
    mix(static_cast<std::uint64_t>(stack.pythonFrames[i].line));
  }
  mix(static_cast<std::uint64_t>(stack.frameCount) << 8 | static_cast<std::uint64_t>(stack.pythonFrameCount));
  return hash | 1;  // never 0, the empty mark
}

bool sameStack(const StackEntry& a, const StackEntry& b) {
  if (a.frameCount != b.frameCount || a.pythonFrameCount != b.pythonFrameCount) return false;
  for (int i = 0; i < a.frameCount; ++i) {
    if (a.frames[i] != b.frames[i]) return false;
  }
  for (int i = 0; i < a.pythonFrameCount; ++i) {
    if (a.pythonFrames[i].code != b.pythonFrames[i].code || a.pythonFrames[i].line != b.pythonFrames[i].line) {
      return false;
    }
  }
  return true;
}

// The index of `stack` in the stack table, adding it if new; kStackCapacity if full.
size_t internStackLocked(const StackEntry& stack) {
  TraceTable& t = gTrace;
  size_t i = static_cast<size_t>(stack.hash) & (kStackCapacity - 1);
  while (t.stacks[i].hash != 0) {
    if (t.stacks[i].hash == stack.hash && sameStack(t.stacks[i], stack)) return i;
    i = (i + 1) & (kStackCapacity - 1);
  }
  if ((t.stacksUsed + 1) * 4 > kStackCapacity * 3) return kStackCapacity;
  t.stacks[i] = stack;
  ++t.stacksUsed;
  return i;
}

void insertLocked(uintptr_t address, size_t size, const StackEntry& stack) {
  TraceTable& t = gTrace;
  if (!t.live) return;
  const size_t stackIndex = internStackLocked(stack);
  if (stackIndex == kStackCapacity || (t.used + 1) * 4 > t.capacity * 3) {
    ++t.dropped;
    return;
  }
  size_t i = slotOf(address, t.capacity);
  while (t.live[i].address != 0 && t.live[i].address != address) i = (i + 1) & (t.capacity - 1);
  if (t.live[i].address == 0) ++t.used;
  t.live[i] = LiveEntry{address, size, static_cast<std::uint32_t>(stackIndex)};
}

bool eraseLocked(uintptr_t key) {
  TraceTable& t = gTrace;
  if (!t.live) return false;
  size_t i = slotOf(key, t.capacity);
  while (t.live[i].address != key) {
    if (t.live[i].address == 0) return false;
    i = (i + 1) & (t.capacity - 1);
  }
  // Backward shift: pull later entries of the probe run into the hole.
  size_t hole = i;
  size_t j = i;
  while (true) {
    j = (j + 1) & (t.capacity - 1);
    if (t.live[j].address == 0) break;
    const size_t home = slotOf(t.live[j].address, t.capacity);
    const bool between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (between) continue;
    t.live[hole] = t.live[j];
    hole = j;
  }
  t.live[hole].address = 0;
  --t.used;
  return true;
}

void unmapTable(const TraceTable& table) {
  unmapPages(table.live, table.capacity * sizeof(LiveEntry));
  unmapPages(table.stacks, kStackCapacity * sizeof(StackEntry));
}

}  // namespace

void traceAllocation(void* p, size_t size) {
  if (tInTrace) return;  // the unwinder allocating: count it, do not trace it
  tInTrace = true;
  StackEntry stack;
  stack.frameCount = unwindStack(reinterpret_cast<void**>(stack.frames), kPsleakMaxTraceFrames);
  const PsleakPythonFramesReader python = gPythonFrames.load(std::memory_order_acquire);
  stack.pythonFrameCount = python ? python(stack.pythonFrames, kPsleakMaxPythonFrames) : 0;
  stack.hash = hashStack(stack);
  {
    SpinGuard guard(gTraceLock);
    insertLocked(reinterpret_cast<uintptr_t>(p), size, stack);
  }
  tInTrace = false;
}

bool traceForget(void* p) {
  SpinGuard guard(gTraceLock);
  return eraseLocked(reinterpret_cast<uintptr_t>(p));
}

void lockTraceForFork() { gTraceLock.lock(); }
void unlockTraceAfterFork() { gTraceLock.unlock(); }

}  // namespace psleak::hooks

using namespace psleak::hooks;

PSLEAK_HOOK int psleak_hooks_trace_start(size_t capacity) {
  size_t rounded = 1024;
  while (rounded < capacity) rounded <<= 1;
  prepareUnwinder();
  TraceTable table;
  table.capacity = rounded;
  table.live = static_cast<LiveEntry*>(mapPages(rounded * sizeof(LiveEntry), /*populate=*/true));
  table.stacks = static_cast<StackEntry*>(mapPages(kStackCapacity * sizeof(StackEntry)));
  if (!table.live || !table.stacks) {
    unmapTable(table);
    return 0;
  }
  SpinGuard guard(gTraceLock);
  if (gTrace.live) unmapTable(gTrace);  // a trace started twice: the newer one wins
  gTrace = table;
  // Frees leave the table everywhere before any thread records: a block recorded by
  // one thread and freed by another must not stay in the table.
  changeMode(kModeTraceTable, 0);
  changeMode(kModeRecording, 0);
  return 1;
}

PSLEAK_HOOK void psleak_hooks_set_python_frames_reader(PsleakPythonFramesReader reader) {
  gPythonFrames.store(reader, std::memory_order_release);
}

PSLEAK_HOOK const char* psleak_hooks_unwinder(void) { return unwinderName(); }

PSLEAK_HOOK void psleak_hooks_trace_stop(void) {
  changeMode(0, kModeRecording);
}

PSLEAK_HOOK size_t psleak_hooks_trace_drain(void (*visit)(const PsleakTracedAllocation*, void*),
                                            void* context) {
  // Take the table out under the lock, then visit it without the lock: the visitor may
  // allocate, and frees of traced blocks must not wait for it.
  TraceTable table;
  {
    SpinGuard guard(gTraceLock);
    changeMode(0, kModeRecording | kModeTraceTable);
    table = gTrace;
    gTrace = TraceTable{};
  }
  if (!table.live) return 0;
  PsleakTracedAllocation record;
  for (size_t i = 0; i < table.capacity; ++i) {
    const LiveEntry& entry = table.live[i];
    if (entry.address == 0) continue;
    const StackEntry& stack = table.stacks[entry.stack];
    record.address = entry.address;
    record.size = entry.size;
    record.frameCount = stack.frameCount;
    record.pythonFrameCount = stack.pythonFrameCount;
    for (int f = 0; f < stack.frameCount; ++f) record.frames[f] = stack.frames[f];
    for (int f = 0; f < stack.pythonFrameCount; ++f) record.pythonFrames[f] = stack.pythonFrames[f];
    visit(&record, context);
  }
  unmapTable(table);
  return table.dropped;
}
