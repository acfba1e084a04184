#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "psleak/platform/child_process.h"
#include "psleak/platform/platform_error.h"

namespace psleak::platform {

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
    // Ctrl-C in a terminal goes to the parent only, which passes it on once; and a
    // parent that dies takes the child with it.
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
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return ChildProcess(pid, fds[0]);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), readFd_(other.readFd_) {
  other.pid_ = -1;
  other.readFd_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = other.pid_;
    readFd_ = other.readFd_;
    other.pid_ = -1;
    other.readFd_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() { release(); }

void ChildProcess::release() {
  if (readFd_ >= 0) ::close(readFd_);
  readFd_ = -1;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
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

void ChildProcess::sendSignal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

ExitStatus ChildProcess::wait() {
  ExitStatus result;
  if (readFd_ >= 0) ::close(readFd_);
  readFd_ = -1;
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

bool writeAll(int fd, const std::string& text) {
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
