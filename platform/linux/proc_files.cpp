#include "linux/proc_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace psleak::platform::linux_proc {

std::string_view readSmallFile(const char* path, char* buffer, std::size_t capacity) noexcept {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::size_t used = 0;
  while (used < capacity) {
    const ssize_t n = ::read(fd, buffer + used, capacity - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  const int savedErrno = errno;
  ::close(fd);
  errno = savedErrno;
  return {buffer, used};
}

}  // namespace psleak::platform::linux_proc
