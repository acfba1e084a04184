#include "live_counters.h"

namespace psleak::hooks {
namespace {
std::atomic<unsigned> gNextSlot{0};
}  // namespace

CounterSlot gCounterSlots[kPrivateSlots + 1];
__thread CounterSlot* tCounterSlot = nullptr;

void countSlow(std::int64_t blocks, std::int64_t bytes) {
  CounterSlot* slot = tCounterSlot;
  if (slot == nullptr) {
    const unsigned index = gNextSlot.fetch_add(1, std::memory_order_relaxed);
    slot = &gCounterSlots[index < kPrivateSlots ? index : kPrivateSlots];
    tCounterSlot = slot;
    if (index < kPrivateSlots) {
      count(blocks, bytes);
      return;
    }
  }
  slot->blocks.fetch_add(blocks, std::memory_order_relaxed);
  slot->bytes.fetch_add(bytes, std::memory_order_relaxed);
}

CounterTotals sumCounters() {
  unsigned claimed = gNextSlot.load(std::memory_order_relaxed);
  if (claimed > kPrivateSlots) claimed = kPrivateSlots;
  CounterTotals totals;
  for (unsigned i = 0; i < claimed; ++i) {
    totals.blocks += gCounterSlots[i].blocks.load(std::memory_order_relaxed);
    totals.bytes += gCounterSlots[i].bytes.load(std::memory_order_relaxed);
  }
  totals.blocks += gCounterSlots[kPrivateSlots].blocks.load(std::memory_order_relaxed);
  totals.bytes += gCounterSlots[kPrivateSlots].bytes.load(std::memory_order_relaxed);
  return totals;
}

}  // namespace psleak::hooks
