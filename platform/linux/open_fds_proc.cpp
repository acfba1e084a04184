// Open descriptors from /proc/self/fd, each resolved with readlink.

#include <dirent.h>
#include <fcntl.h>
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
  int count = 0;
  FdDirectory dir;
  dir.forEach([&](int) { ++count; });
  return count;
}

}  // namespace psleak::platform
