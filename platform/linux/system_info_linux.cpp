#include <sys/utsname.h>

#include "psleak/platform/allocator_stats.h"
#include "psleak/platform/system_info.h"

namespace psleak::platform {

SystemInfo systemInfo() {
  SystemInfo info;
  struct utsname names {};
  if (::uname(&names) == 0) {
    info.system = names.sysname;
    info.release = names.release;
    info.machine = names.machine;
  }
  info.libc = allocatorName();
  return info;
}

}  // namespace psleak::platform
