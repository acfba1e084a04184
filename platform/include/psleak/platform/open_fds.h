#pragma once
// The process's open file descriptors and what each points to.

#include <string>
#include <vector>

namespace psleak::platform {

struct OpenFd {
  int fd = -1;
  std::string target;  // "/dev/null", "socket:[48121]", "pipe:[...]", "anon_inode:[eventfd]"
  bool operator==(const OpenFd& o) const { return fd == o.fd && target == o.target; }
};

// Lists /proc/self/fd, sorted by descriptor, leaving out the descriptor used to list it.
// Throws PlatformError if the directory cannot be read.
std::vector<OpenFd> listOpenFds();

// Number of open descriptors, leaving out the one used to count them. Cheap (no
// readlink) and allocates nothing unless it fails (PlatformError).
int countOpenFds();

}  // namespace psleak::platform
