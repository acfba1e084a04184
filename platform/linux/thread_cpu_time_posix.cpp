#include "psleak/platform/thread_cpu_time.h"

#include <time.h>

namespace psleak::platform {
namespace {

std::int64_t nanoseconds(clockid_t clock) {
  timespec now{};
  if (clock_gettime(clock, &now) != 0) return -1;
  return static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

}  // namespace

std::int64_t otherThreadsCpuNanoseconds() {
  // The thread's clock first: the process's then includes at least as much of it.
  const std::int64_t self = nanoseconds(CLOCK_THREAD_CPUTIME_ID);
  const std::int64_t process = nanoseconds(CLOCK_PROCESS_CPUTIME_ID);
  if (self < 0 || process < 0) return -1;
  return process - self;
}

}  // namespace psleak::platform
