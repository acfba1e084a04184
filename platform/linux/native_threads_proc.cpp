// Native threads from /proc/self/task, named from each task's comm file.

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "linux/proc_files.h"
#include "psleak/platform/native_threads.h"
#include "psleak/platform/platform_error.h"

namespace psleak::platform {

std::vector<NativeThread> listNativeThreads() {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/task"), ::closedir);
  if (!dir) throw PlatformError(std::string("cannot open /proc/self/task: ") + std::strerror(errno));
  std::vector<NativeThread> threads;
  while (const dirent* entry = ::readdir(dir.get())) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    NativeThread thread;
    thread.tid = std::atoi(entry->d_name);
    char path[64];
    char comm[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%d/comm", thread.tid);
    std::string_view name = linux_proc::readSmallFile(path, comm, sizeof comm);
    while (!name.empty() && name.back() == '\n') name.remove_suffix(1);
    thread.name = std::string(name);
    threads.push_back(std::move(thread));
  }
  std::sort(threads.begin(), threads.end(),
            [](const NativeThread& a, const NativeThread& b) { return a.tid < b.tid; });
  return threads;
}

}  // namespace psleak::platform
