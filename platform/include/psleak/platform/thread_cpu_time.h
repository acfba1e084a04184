#pragma once
// CPU time spent by the other threads of this process: how psleak tells whether work it
// handed to them (records queued to a logging thread, say) is still being done.

#include <cstdint>

namespace psleak::platform {

// Nanoseconds of CPU time used so far by every thread of the process but the calling
// one (the process's CPU clock less the calling thread's). Only differences between two
// readings mean anything; -1 if the clocks cannot be read.
std::int64_t otherThreadsCpuNanoseconds();

}  // namespace psleak::platform
