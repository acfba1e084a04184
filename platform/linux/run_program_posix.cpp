// runProgram with posix_spawn: no shell, the argument vector as given.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "psleak/platform/run_program.h"

extern char** environ;

namespace psleak::platform {
namespace {

// Closes an fd when it goes out of scope.
class FdGuard {
 public:
  explicit FdGuard(int fd = -1) : fd_(fd) {}
  ~FdGuard() { reset(); }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Frees posix_spawn's attribute objects on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
  }
};

std::string describeExit(const ExitStatus& status) {
  if (status.exited) return "exited with " + std::to_string(status.code);
  return "was killed by " + signalName(status.signal);
}

// Waits for `pid` until `deadline`; false if it is still running then.
bool waitUntil(pid_t pid, std::chrono::steady_clock::time_point deadline, ExitStatus& status) {
  while (true) {
    int raw = 0;
    const pid_t done = ::waitpid(pid, &raw, WNOHANG);
    if (done == pid) {
      status = decodeWaitStatus(raw);
      return true;
    }
    if (done < 0 && errno != EINTR) return true;  // not ours to wait for any more
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::usleep(2000);
  }
}

// Kills the program's whole process group and reaps the program.
void killGroup(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int raw = 0;
  while (::waitpid(pid, &raw, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

ProgramOutput runProgram(const std::vector<std::string>& argv, int timeoutMs) {
  ProgramOutput result;
  if (argv.empty() || argv.front().empty()) {
    result.failure = "no program named";
    return result;
  }
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
    result.failure = std::string("cannot create a pipe: ") + std::strerror(errno);
    return result;
  }
  FdGuard readEnd(pipeFds[0]);
  FdGuard writeEnd(pipeFds[1]);

  SpawnSetup setup;
  ::posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&setup.actions, writeEnd.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_addopen(&setup.actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  // A group of its own: on timeout the whole group goes, grandchildren included (a
  // wrapper script's `sleep` would otherwise keep the pipe open). Signals psleak blocks
  // or catches are reset, so the program behaves as it would from a shell.
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT}) sigaddset(&defaults, sig);
  ::posix_spawnattr_setsigmask(&setup.attributes, &none);
  ::posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  ::posix_spawnattr_setpgroup(&setup.attributes, 0);
  ::posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                    POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const bool searchPath = argv.front().find('/') == std::string::npos;
  const int error = searchPath
                        ? ::posix_spawnp(&pid, args[0], &setup.actions, &setup.attributes, args.data(), environ)
                        : ::posix_spawn(&pid, args[0], &setup.actions, &setup.attributes, args.data(), environ);
  writeEnd.reset();
  if (error != 0) {
    result.failure = std::string("cannot run it: ") + std::strerror(error);
    return result;
  }
  result.started = true;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  char chunk[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      result.timedOut = true;
      break;
    }
    pollfd polled{readEnd.get(), POLLIN, 0};
    const int ready = ::poll(&polled, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // timed out: the loop's head notices
    const ssize_t n = ::read(readEnd.get(), chunk, sizeof chunk);
    if (n > 0) {
      result.output.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;  // end of output: the program (and whatever shared its stdout) is done with it
    }
  }
  // A program that closed its stdout may still be running: it gets the rest of the time.
  if (!result.timedOut && !waitUntil(pid, deadline, result.status)) result.timedOut = true;
  if (result.timedOut) {
    killGroup(pid);
    result.failure = "did not answer within " + std::to_string((timeoutMs + 999) / 1000) + " s";
    return result;
  }
  if (!result.succeeded()) result.failure = describeExit(result.status);
  return result;
}

}  // namespace psleak::platform
