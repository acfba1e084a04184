// Why libunwind: glibc's backtrace() goes through libgcc's unwinder, which looks up and
// interprets the DWARF call-frame information of every frame on every call (about a
// microsecond a frame here). libunwind's unw_backtrace keeps a per-thread cache of how
// to step out of each return address, so a stack already seen costs a few nanoseconds
// a frame; tracing unwinds the same few stacks thousands of times.
//
// Why dlopen with RTLD_LOCAL instead of linking: libunwind.so also defines the
// _Unwind_* functions of the C++ exception ABI. Linked in, it could take them over from
// libgcc for psleak and for every extension module. Loaded locally, only the one
// function asked for by name is used.

#include "stack_unwinder.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>

namespace psleak::hooks {
namespace {

using BacktraceFn = int (*)(void**, int);

std::atomic<BacktraceFn> gUnwind{nullptr};
const char* gUnwinderName = "backtrace";

BacktraceFn loadLibunwind() {
  const char* forced = getenv("PSLEAK_UNWINDER");
  if (forced && strcmp(forced, "backtrace") == 0) return nullptr;
  void* library = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (!library) return nullptr;
  return reinterpret_cast<BacktraceFn>(dlsym(library, "unw_backtrace"));
}

}  // namespace

void chooseUnwinder() {
  if (gUnwind.load(std::memory_order_acquire)) return;
  BacktraceFn chosen = loadLibunwind();
  gUnwinderName = chosen ? "libunwind" : "backtrace";
  gUnwind.store(chosen ? chosen : &backtrace, std::memory_order_release);
}

void prepareUnwinder() {
  chooseUnwinder();
  // The first unwind on a thread sets up the unwinder's state (libgcc's loading, or
  // libunwind's per-thread cache): do it here, outside any hook.
  void* warmUp[8];
  unwindStack(warmUp, 8);
}

int unwindStack(void** frames, int max) {
  BacktraceFn unwind = gUnwind.load(std::memory_order_acquire);
  return unwind ? unwind(frames, max) : 0;
}

const char* unwinderName() {
  chooseUnwinder();
  return gUnwinderName;
}

}  // namespace psleak::hooks
