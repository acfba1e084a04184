#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "linux/proc_files.h"
#include "psleak/platform/child_process.h"
#include "psleak/platform/platform_error.h"
#include "psleak/platform/report_output.h"

namespace psleak::platform {
namespace {

// A descriptor that becomes readable when `pid` ends; -1 before Linux 5.3.
int openPidFd(pid_t pid) {
#ifdef SYS_pidfd_open
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) {
    ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    return static_cast<int>(fd);
  }
#endif
  (void)pid;
  return -1;
}

// The processes of process group `group` but its leader, as "PID (NAME)".
std::vector<std::string> processGroupMembers(pid_t group) {
  std::vector<std::string> members;
  DIR* proc = ::opendir("/proc");
  if (!proc) return members;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == group) continue;
    const std::string path = "/proc/" + std::string(entry->d_name) + "/stat";
    char buffer[1024];
    const std::string_view stat = linux_proc::readSmallFile(path.c_str(), buffer, sizeof buffer);
    // "PID (NAME) STATE PPID PGRP ...": the name may hold spaces and parentheses.
    const std::size_t open = stat.find('(');
    const std::size_t close = stat.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) continue;
    char state = 0;
    long parent = 0, processGroup = 0;
    const std::string rest(stat.substr(close + 1));
    if (std::sscanf(rest.c_str(), " %c %ld %ld", &state, &parent, &processGroup) != 3) continue;
    if (processGroup != group || state == 'Z') continue;
    members.push_back(std::to_string(pid) + " (" + std::string(stat.substr(open + 1, close - open - 1)) + ")");
  }
  ::closedir(proc);
  return members;
}

}  // namespace

std::string signalName(int signal) {
  if (const char* abbrev = ::sigabbrev_np(signal)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(signal);
}

ChildProcess ChildProcess::start(const std::function<int(int)>& body, bool stdoutToStderr) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw PlatformError(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  std::fflush(nullptr);  // or buffered output would be written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw PlatformError(std::string("cannot fork: ") + std::strerror(error));
  }
  if (pid == 0) {
    ::close(fds[0]);
    dropReportFdInChild();
    // Ctrl-C in a terminal goes to the parent only, which passes it on once; and a
    // parent that dies takes the child with it. The group also holds whatever helper
    // processes the target starts, so that they can be found and killed with it.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (stdoutToStderr) ::dup2(STDERR_FILENO, STDOUT_FILENO);
    int code = 4;
    try {
      code = body(fds[1]);
    } catch (...) {
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  ::setpgid(pid, pid);  // also here: the group must exist before the parent may kill it
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return ChildProcess(pid, fds[0], openPidFd(pid));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), readFd_(other.readFd_), exitFd_(other.exitFd_) {
  other.pid_ = -1;
  other.readFd_ = -1;
  other.exitFd_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = other.pid_;
    readFd_ = other.readFd_;
    exitFd_ = other.exitFd_;
    other.pid_ = -1;
    other.readFd_ = -1;
    other.exitFd_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() { release(); }

void ChildProcess::release() {
  if (readFd_ >= 0) ::close(readFd_);
  readFd_ = -1;
  if (exitFd_ >= 0) ::close(exitFd_);
  exitFd_ = -1;
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

bool ChildProcess::readAvailable(std::string& buffer) {
  if (readFd_ < 0) return false;
  char chunk[65536];
  while (true) {
    const ssize_t n = ::read(readFd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return false;  // end of file: the child closed the pipe or ended
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

bool ChildProcess::hasExited() const {
  if (pid_ <= 0) return true;
  siginfo_t info {};
  // WNOWAIT: the child stays a zombie, so that its pid (its group's id) is not reused
  // before killProcessGroup and wait.
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno == ECHILD;
  }
  return info.si_pid != 0;
}

bool ChildProcess::waitForExit(int timeoutMs) const {
  if (timeoutMs < 0) {
    siginfo_t info {};
    while (pid_ > 0 && ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 &&
           errno == EINTR) {
    }
    return true;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!hasExited()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    if (exitFd_ >= 0) {
      pollfd exit = {exitFd_, POLLIN, 0};
      ::poll(&exit, 1, static_cast<int>(left));
    } else {
      ::usleep(static_cast<useconds_t>(std::min<long long>(left, 10)) * 1000);
    }
  }
  return true;
}

void ChildProcess::sendSignal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

std::vector<std::string> ChildProcess::killProcessGroup() {
  if (pid_ <= 0) return {};
  const std::vector<std::string> left = processGroupMembers(pid_);
  ::kill(-pid_, SIGKILL);
  return left;
}

ExitStatus ChildProcess::wait() {
  ExitStatus result;
  if (readFd_ >= 0) ::close(readFd_);
  readFd_ = -1;
  if (exitFd_ >= 0) ::close(exitFd_);
  exitFd_ = -1;
  if (pid_ <= 0) return result;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) {
      pid_ = -1;
      return result;
    }
  }
  pid_ = -1;
  return decodeWaitStatus(status);
}

ExitStatus decodeWaitStatus(int raw) {
  ExitStatus result;
  if (WIFEXITED(raw)) {
    result.exited = true;
    result.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    result.signal = WTERMSIG(raw);
  }
  return result;
}

std::vector<std::size_t> waitReadable(const std::vector<int>& fds, int timeoutMs) {
  std::vector<pollfd> polled;
  for (int fd : fds) polled.push_back({fd, POLLIN, 0});
  std::vector<std::size_t> ready;
  const int n = ::poll(polled.data(), polled.size(), timeoutMs);
  if (n <= 0) return ready;
  for (std::size_t i = 0; i < polled.size(); ++i) {
    if (polled[i].revents & (POLLIN | POLLHUP | POLLERR)) ready.push_back(i);
  }
  return ready;
}

bool writeAll(int fd, std::string_view text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace psleak::platform
