#pragma once
// The native stack unwinder used while tracing allocations.

namespace psleak::hooks {

// Chooses the unwinder once (later calls return at once), outside any hook: it may load
// a library and allocate.
void chooseUnwinder();

// Chooses the unwinder, once, outside any hook (it may load a library and allocate):
// libunwind's unw_backtrace when libunwind.so.8 can be loaded, glibc's backtrace()
// otherwise, or always with PSLEAK_UNWINDER=backtrace. Then warms it up on this thread.
void prepareUnwinder();

// The return addresses of the calling thread's stack, innermost first. Inside malloc:
// it may allocate (the caller guards against recursion) but takes no malloc lock.
int unwindStack(void** frames, int max);

// "libunwind" or "backtrace": what chooseUnwinder() chose (choosing first if need be).
const char* unwinderName();

}  // namespace psleak::hooks
