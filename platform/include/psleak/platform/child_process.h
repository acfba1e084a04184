#pragma once
// A forked child process with a pipe back to the parent: how psleak runs each target in
// a process of its own, so that a crash or a hang costs the target, not the report.

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
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
  // Forks. The child closes the read end (and psleak's copy of stdout), leads a process
  // group of its own, runs body(writeFd) and leaves with _exit of its result (or 4 if it
  // throws), never returning into the caller's frames. With stdoutToStderr the child's
  // stdout goes to stderr, so that what a target prints cannot mix into the parent's
  // output. Throws PlatformError if fork or pipe fail.
  static ChildProcess start(const std::function<int(int writeFd)>& body, bool stdoutToStderr);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // A child still running is killed (SIGKILL) and reaped.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int readFd() const { return readFd_; }
  // A descriptor that becomes readable when the child ends (a pidfd), or -1 when the
  // kernel has none: then poll with a short timeout and ask hasExited().
  int exitFd() const { return exitFd_; }
  // Appends what can be read now without blocking; false once the pipe is closed. A
  // helper process the child started may hold the pipe open after the child ended: ask
  // hasExited() too.
  bool readAvailable(std::string& buffer);
  // True once the child has ended (it is not reaped: wait() does that).
  bool hasExited() const;
  // Waits up to timeoutMs (-1: forever) until the child has ended, without reaping it;
  // false if it still runs.
  bool waitForExit(int timeoutMs) const;
  void sendSignal(int signal);
  // Kills (SIGKILL) what is left of the child's process group, the child included if it
  // still runs: helper processes its target started and left running. Returns them as
  // "PID (NAME)", the child itself not included. Call before wait(): until the child is
  // reaped its pid, the group's id, cannot be reused.
  std::vector<std::string> killProcessGroup();
  // Waits for the child to end (closing the pipe first).
  ExitStatus wait();

 private:
  ChildProcess(pid_t pid, int readFd, int exitFd) : pid_(pid), readFd_(readFd), exitFd_(exitFd) {}
  void release();
  pid_t pid_ = -1;
  int readFd_ = -1;
  int exitFd_ = -1;
};

// Waits up to timeoutMs (-1: forever) until one of `fds` can be read (or is closed);
// returns the indexes of those that can. Interrupted by a signal, returns none.
std::vector<std::size_t> waitReadable(const std::vector<int>& fds, int timeoutMs);

// Writes all of `text` to fd (retrying on EINTR and short writes); false on error, with
// errno set.
bool writeAll(int fd, std::string_view text);

}  // namespace psleak::platform
