#pragma once
// Live block and byte counters, updated on every malloc and free, and the hooks' mode
// as each thread sees it.
//
// Every thread counts into its own thread-local ThreadCounters with plain adds: no
// locked instruction, no pointer to follow. A thread registers them on its first
// allocation (so that a reader can find and sum them) and, at its exit, folds them into
// the shared totals and unregisters. The thread-local block also holds the thread's copy
// of the global mode, kept up to date by setMode(), so that the common case -- a
// registered thread, counting, not tracing -- is one compare of a thread-local byte.
// Threads that cannot register (the registry is full, the thread is exiting, or it is
// registering right now) count into the shared totals with atomic adds instead.
//
// Thread-locals here are trivially destructible and constant-initialized, so all this
// works before main, in every thread, and at thread exit (glibc frees a thread's
// malloc cache after its thread-specific destructors have run).

#include <atomic>
#include <cstdint>

#include "hook_common.h"

namespace psleak::hooks {

enum ThreadModeBits : std::uint8_t {
  kThreadRegistered = 0x80,  // with the low bits: the global mode, as this thread sees it
  kThreadShared = 0x40,      // counts into the shared totals (read gMode for the rest)
  // 0: new, not registered yet
};
constexpr std::uint8_t kThreadFastMode = kThreadRegistered | kModeCounting;

struct ThreadCounters {
  std::atomic<std::uint8_t> mode;
  // Written only by the owning thread, with plain adds; read by others with
  // __atomic_load_n (8-byte aligned, so never torn).
  std::int64_t blocks;
  std::int64_t bytes;  // countedSize() of the blocks
};
// local-exec: the hooks are only ever linked into executables, so the variable sits at
// a fixed offset from the thread pointer and each access is one %fs-relative operand
// (no offset to load first, no __tls_get_addr, which may allocate).
extern __thread ThreadCounters tCounters PSLEAK_HOOK_INTERNAL
    __attribute__((tls_model("local-exec")));

inline bool onFastPath() {
  return tCounters.mode.load(std::memory_order_relaxed) == kThreadFastMode;
}

// Only on the fast path (onFastPath() just returned true).
inline void countFast(std::int64_t blocks, std::int64_t bytes) {
  tCounters.blocks += blocks;
  tCounters.bytes += bytes;
}

// The mode this thread works in now (registering it first if it is new), without the
// thread bits: the kModeBits.
std::uint8_t currentMode() PSLEAK_HOOK_INTERNAL;

// Counts on any path (after currentMode() said counting is on).
void count(std::int64_t blocks, std::int64_t bytes) PSLEAK_HOOK_INTERNAL;

// Sets bits `set` and clears bits `clear` of the global mode, and of every registered
// thread's copy of it. Other threads see the change at their next allocation.
void changeMode(std::uint8_t set, std::uint8_t clear) PSLEAK_HOOK_INTERNAL;

struct CounterTotals {
  std::int64_t blocks = 0;
  std::int64_t bytes = 0;
};
CounterTotals sumCounters() PSLEAK_HOOK_INTERNAL;

}  // namespace psleak::hooks
