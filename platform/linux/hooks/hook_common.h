#pragma once
// What the allocator hooks' translation units share (platform/linux/hooks/). Everything
// here runs inside malloc: no allocation, no logging, no Python, no lock that malloc
// may take. Only <atomic>, libc and the C ABI header.

#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#define PSLEAK_HOOK extern "C" __attribute__((visibility("default")))
#define PSLEAK_HOOK_INTERNAL __attribute__((visibility("hidden")))

namespace psleak::hooks {

// The hooks' mode, one byte read once per hooked call: the common case (counting, no
// trace) is then a single compare. Changed only outside the hot path.
enum ModeBits : std::uint8_t {
  kModeCounting = 1,    // update the live counters (off: only forward to the C library)
  kModeRecording = 2,   // record the stack of every new allocation
  kModeTraceTable = 4,  // a trace table exists: frees must leave it
};
extern std::atomic<std::uint8_t> gMode PSLEAK_HOOK_INTERNAL;

inline std::uint8_t mode() { return gMode.load(std::memory_order_relaxed); }
inline bool counting() { return (mode() & kModeCounting) != 0; }

// A spin lock of our own: malloc never takes it, and it needs no initialization.
class SpinLock {
 public:
  void lock() {
    while (flag_.test_and_set(std::memory_order_acquire)) sched_yield();
  }
  void unlock() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

class SpinGuard {
 public:
  explicit SpinGuard(SpinLock& lock) : lock_(lock) { lock_.lock(); }
  ~SpinGuard() { lock_.unlock(); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  SpinLock& lock_;
};

// Each module's lock, taken around fork() (malloc_hooks.cpp registers one handler that
// takes them in a fixed order: trace, mappings, counters -- the order in which the
// trace's drain nests them).
void lockTraceForFork() PSLEAK_HOOK_INTERNAL;
void unlockTraceAfterFork() PSLEAK_HOOK_INTERNAL;
void lockMappingsForFork() PSLEAK_HOOK_INTERNAL;
void unlockMappingsAfterFork() PSLEAK_HOOK_INTERNAL;
void lockCountersForFork() PSLEAK_HOOK_INTERNAL;
void unlockCountersAfterFork() PSLEAK_HOOK_INTERNAL;
// In a child, with the counters' locks held: folds the counters of every thread but
// the calling one into the shared totals and forgets them.
void forgetOtherThreadsInChild() PSLEAK_HOOK_INTERNAL;

// Pages straight from the kernel: never the heap the hooks describe, never the mmap
// hook (which would count them as the target's mappings).
// With `populate`, the pages are faulted in at once.
inline void* mapPages(std::size_t bytes, bool populate = false) {
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0);
  void* p = reinterpret_cast<void*>(
      syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE, flags, -1, 0));
  return p == MAP_FAILED ? nullptr : p;
}
inline void unmapPages(void* p, std::size_t bytes) {
  if (p) syscall(SYS_munmap, p, bytes);
}

}  // namespace psleak::hooks
