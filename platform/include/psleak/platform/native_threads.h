#pragma once
// The process's native threads (tasks), with the names they gave themselves.

#include <string>
#include <vector>

namespace psleak::platform {

struct NativeThread {
  int tid = 0;
  std::string name;  // from /proc/self/task/TID/comm, at most 15 characters
};

// Lists /proc/self/task, sorted by thread id. Throws PlatformError if it cannot be read.
std::vector<NativeThread> listNativeThreads();

}  // namespace psleak::platform
