#include "live_counters.h"

#include <pthread.h>

namespace psleak::hooks {

__thread ThreadCounters tCounters = {};

namespace {

// The registry: the counters of every registered live thread. Claimed and released
// under gRegistryLock, which is also what a reader and a mode change hold, so that a
// thread's counts are in exactly one place (its counters or the shared totals) for
// whoever reads.
constexpr unsigned kMaxRegistered = 4096;
SpinLock gRegistryLock;
ThreadCounters* gRegistered[kMaxRegistered];
std::atomic<std::int64_t> gSharedBlocks{0};
std::atomic<std::int64_t> gSharedBytes{0};

// Tells us when a registered thread exits. Created on first use (pthread_key_create
// does not allocate); 0 until then, kNoKey if it could not be.
constexpr unsigned kNoKey = ~0u;
std::atomic<unsigned> gExitKey{0};  // key + 1
SpinLock gKeyLock;

void retireThread(void*) {
  // From here on, this thread (its last frees included) counts into the shared totals.
  SpinGuard guard(gRegistryLock);
  gSharedBlocks.fetch_add(tCounters.blocks, std::memory_order_relaxed);
  gSharedBytes.fetch_add(tCounters.bytes, std::memory_order_relaxed);
  tCounters.blocks = 0;
  tCounters.bytes = 0;
  for (ThreadCounters*& slot : gRegistered) {
    if (slot == &tCounters) slot = nullptr;
  }
  tCounters.mode.store(kThreadShared, std::memory_order_relaxed);
}

unsigned exitKey() {
  unsigned stored = gExitKey.load(std::memory_order_acquire);
  if (stored != 0) return stored;
  SpinGuard guard(gKeyLock);
  stored = gExitKey.load(std::memory_order_relaxed);
  if (stored == 0) {
    pthread_key_t key;
    stored = pthread_key_create(&key, retireThread) == 0 ? static_cast<unsigned>(key) + 1 : kNoKey;
    gExitKey.store(stored, std::memory_order_release);
  }
  return stored;
}

void registerThread() {
  // Count as shared while registering: pthread_setspecific may allocate, and that
  // allocation comes back here.
  tCounters.mode.store(kThreadShared, std::memory_order_relaxed);
  const unsigned key = exitKey();
  if (key == kNoKey || pthread_setspecific(static_cast<pthread_key_t>(key - 1), &tCounters) != 0) {
    return;  // no way to hear of its exit: stays shared
  }
  SpinGuard guard(gRegistryLock);
  for (ThreadCounters*& slot : gRegistered) {
    if (slot == nullptr) {
      slot = &tCounters;
      tCounters.mode.store(kThreadRegistered | gMode.load(std::memory_order_relaxed),
                           std::memory_order_relaxed);
      return;
    }
  }
  // The registry is full: shared it is. (The exit destructor still runs; harmless.)
}

}  // namespace

std::uint8_t currentMode() {
  std::uint8_t mine = tCounters.mode.load(std::memory_order_relaxed);
  if (mine == 0) {
    registerThread();
    mine = tCounters.mode.load(std::memory_order_relaxed);
  }
  if (mine & kThreadRegistered) return mine & static_cast<std::uint8_t>(~kThreadRegistered);
  return gMode.load(std::memory_order_relaxed);
}

void count(std::int64_t blocks, std::int64_t bytes) {
  if (tCounters.mode.load(std::memory_order_relaxed) & kThreadRegistered) {
    countFast(blocks, bytes);
  } else {
    gSharedBlocks.fetch_add(blocks, std::memory_order_relaxed);
    gSharedBytes.fetch_add(bytes, std::memory_order_relaxed);
  }
}

void changeMode(std::uint8_t set, std::uint8_t clear) {
  SpinGuard guard(gRegistryLock);
  const auto mode = static_cast<std::uint8_t>((gMode.load(std::memory_order_relaxed) | set) & ~clear);
  gMode.store(mode, std::memory_order_release);
  for (ThreadCounters* slot : gRegistered) {
    if (slot) slot->mode.store(kThreadRegistered | mode, std::memory_order_release);
  }
}

CounterTotals sumCounters() {
  SpinGuard guard(gRegistryLock);
  CounterTotals totals{gSharedBlocks.load(std::memory_order_relaxed),
                       gSharedBytes.load(std::memory_order_relaxed)};
  for (ThreadCounters* slot : gRegistered) {
    if (!slot) continue;
    totals.blocks += __atomic_load_n(&slot->blocks, __ATOMIC_RELAXED);
    totals.bytes += __atomic_load_n(&slot->bytes, __ATOMIC_RELAXED);
  }
  return totals;
}

// The key lock first: exitKey() takes it alone, never inside the registry lock.
void lockCountersForFork() {
  gKeyLock.lock();
  gRegistryLock.lock();
}
void unlockCountersAfterFork() {
  gRegistryLock.unlock();
  gKeyLock.unlock();
}

void forgetOtherThreadsInChild() {
  for (ThreadCounters*& slot : gRegistered) {
    if (slot == nullptr || slot == &tCounters) continue;
    gSharedBlocks.fetch_add(slot->blocks, std::memory_order_relaxed);
    gSharedBytes.fetch_add(slot->bytes, std::memory_order_relaxed);
    slot = nullptr;
  }
}

}  // namespace psleak::hooks
