#pragma once
// A forked child process with a pipe back to the parent: how psleak runs each target in
// a process of its own, so that a crash or a hang costs the target, not the report.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace psleak::platform {

struct ExitStatus {
  bool exited = false;  // exited normally, with `code`
  int code = 0;
  int signal = 0;       // killed by this signal (when !exited)
};

// What waitpid's status word says.
ExitStatus decodeWaitStatus(int raw);

// "SIGSEGV", "SIGABRT", ... or "signal 42".
std::string signalName(int signal);

class ChildProcess {
 public:
  // Forks. The child closes the read end, runs body(writeFd) and leaves with _exit of
  // its result (or 4 if it throws), never returning into the caller's frames. With
  // stdoutToStderr the child's stdout goes to stderr, so that what a target prints
  // cannot mix into the parent's output. Throws PlatformError if fork or pipe fail.
  static ChildProcess start(const std::function<int(int writeFd)>& body, bool stdoutToStderr);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // A child still running is killed (SIGKILL) and reaped.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int readFd() const { return readFd_; }
  // Appends what can be read now without blocking; false once the child closed the pipe.
  bool readAvailable(std::string& buffer);
  void sendSignal(int signal);
  // Waits for the child to end (closing the pipe first).
  ExitStatus wait();

 private:
  ChildProcess(pid_t pid, int readFd) : pid_(pid), readFd_(readFd) {}
  void release();
  pid_t pid_ = -1;
  int readFd_ = -1;
};

// Waits up to timeoutMs (-1: forever) until one of `fds` can be read (or is closed);
// returns the indexes of those that can. Interrupted by a signal, returns none.
std::vector<std::size_t> waitReadable(const std::vector<int>& fds, int timeoutMs);

// Writes all of `text` to fd (retrying on EINTR and short writes); false on error.
bool writeAll(int fd, const std::string& text);

}  // namespace psleak::platform
