// Open descriptors from /proc/self/fd, each resolved with readlink.

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "psleak/platform/open_fds.h"
#include "psleak/platform/platform_error.h"

namespace psleak::platform {
namespace {

// Owns the DIR* of /proc/self/fd; its own descriptor is left out of every listing.
class FdDirectory {
 public:
  FdDirectory() : dir_(::opendir("/proc/self/fd")) {
    if (!dir_) {
      throw PlatformError(std::string("cannot open /proc/self/fd: ") + std::strerror(errno));
    }
  }
  ~FdDirectory() { ::closedir(dir_); }
  FdDirectory(const FdDirectory&) = delete;
  FdDirectory& operator=(const FdDirectory&) = delete;

  // Calls visit(fd) for every descriptor but the directory's own.
  template <typename Visit>
  void forEach(Visit visit) {
    const int ownFd = ::dirfd(dir_);
    while (const dirent* entry = ::readdir(dir_)) {
      if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
      const int fd = std::atoi(entry->d_name);
      if (fd != ownFd) visit(fd);
    }
  }

 private:
  DIR* dir_;
};

std::string linkTarget(int fd) {
  char path[64];
  char target[4096];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (n < 0) return "?";
  return std::string(target, static_cast<std::size_t>(n));
}

}  // namespace

std::vector<OpenFd> listOpenFds() {
  std::vector<int> fds;
  FdDirectory dir;
  dir.forEach([&](int fd) { fds.push_back(fd); });
  std::sort(fds.begin(), fds.end());
  std::vector<OpenFd> result;
  result.reserve(fds.size());
  for (int fd : fds) result.push_back({fd, linkTarget(fd)});
  return result;
}

int countOpenFds() {
  // Read with getdents64 into a buffer on the stack rather than opendir(), which
  // mallocs its own: psleak counts descriptors between memory runs, where an
  // allocation would move the allocator's figures.
  const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) throw PlatformError(std::string("cannot open /proc/self/fd: ") + std::strerror(errno));
  alignas(8) char buffer[4096];
  int count = 0;
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, buffer, sizeof buffer);
    if (n < 0) {
      const int error = errno;
      ::close(dir);
      throw PlatformError(std::string("cannot read /proc/self/fd: ") + std::strerror(error));
    }
    if (n == 0) break;
    for (long at = 0; at < n;) {
      // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
      unsigned short length = 0;
      std::memcpy(&length, buffer + at + 16, sizeof length);
      const char* name = buffer + at + 19;
      if (name[0] >= '0' && name[0] <= '9' && std::atoi(name) != dir) ++count;
      at += length;
    }
  }
  ::close(dir);
  return count;
}

}  // namespace psleak::platform
