#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "psleak/platform/fork_watch.h"

namespace psleak::platform {
namespace {

// The pid as of the last fork: set at start and, by pthread_atfork, in every child the
// C library's fork() makes. getpid() is a system call; this is a load.
std::atomic<pid_t> gCurrentPid{0};

void onForkInChild() { gCurrentPid.store(::getpid(), std::memory_order_relaxed); }

}  // namespace

ForkWatch::ForkWatch() : owner_(::getpid()) {
  static std::once_flag registered;
  std::call_once(registered, [] { ::pthread_atfork(nullptr, nullptr, onForkInChild); });
  gCurrentPid.store(owner_, std::memory_order_relaxed);
}

bool ForkWatch::inForkedChild() const noexcept {
  return gCurrentPid.load(std::memory_order_relaxed) != owner_;
}

bool ForkWatch::inForkedChildStrict() const noexcept { return ::getpid() != owner_; }

void leaveForkedChild() noexcept { exitProcess(0); }

void exitProcess(int code) noexcept {
  for (;;) ::syscall(SYS_exit_group, code);
}

}  // namespace psleak::platform
