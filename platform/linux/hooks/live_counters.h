#pragma once
// Live block and byte counters, updated on every malloc and free.
//
// Each thread owns a slot (claimed once, never released) and updates it with a plain
// relaxed load and store: no locked instruction on the hot path. Threads beyond
// kPrivateSlots share the last slot, updated with atomic read-modify-write. A reader
// sums the slots. Slots are statically allocated and a thread's pointer to its slot is
// a trivially destructible thread-local, so counting works before main and at thread
// exit (glibc frees a thread's cache after its destructors have run).

#include <atomic>
#include <cstdint>

#include "hook_common.h"

namespace psleak::hooks {

struct alignas(64) CounterSlot {
  std::atomic<std::int64_t> blocks{0};
  std::atomic<std::int64_t> bytes{0};  // countedSize() of the blocks
};

constexpr unsigned kPrivateSlots = 1024;
// The last one is shared.
extern CounterSlot gCounterSlots[kPrivateSlots + 1] PSLEAK_HOOK_INTERNAL;
extern __thread CounterSlot* tCounterSlot PSLEAK_HOOK_INTERNAL
    __attribute__((tls_model("initial-exec")));

// The first update of a thread (which claims its slot) and every update of a thread
// on the shared slot.
void countSlow(std::int64_t blocks, std::int64_t bytes) PSLEAK_HOOK_INTERNAL;

inline void count(std::int64_t blocks, std::int64_t bytes) {
  CounterSlot* slot = tCounterSlot;
  // One unsigned compare says both "claimed" and "private": a null or shared slot
  // falls outside the private range.
  const std::uintptr_t offset =
      reinterpret_cast<std::uintptr_t>(slot) - reinterpret_cast<std::uintptr_t>(gCounterSlots);
  if (__builtin_expect(offset < kPrivateSlots * sizeof(CounterSlot), 1)) {
    slot->blocks.store(slot->blocks.load(std::memory_order_relaxed) + blocks,
                       std::memory_order_relaxed);
    slot->bytes.store(slot->bytes.load(std::memory_order_relaxed) + bytes,
                      std::memory_order_relaxed);
  } else {
    countSlow(blocks, bytes);
  }
}

struct CounterTotals {
  std::int64_t blocks = 0;
  std::int64_t bytes = 0;
};
CounterTotals sumCounters() PSLEAK_HOOK_INTERNAL;

}  // namespace psleak::hooks
