#pragma once
// Target code may fork, and a child that returns (os.fork() in a target, the child not
// ending itself) comes back into psleak's call loop with psleak's whole state: it would
// carry on the check and print a second report. A ForkWatch tells, after each call,
// whether the code is still running in the process that made the watch.

#include <sys/types.h>

namespace psleak::platform {

class ForkWatch {
 public:
  // Records the current process as the one making the check.
  ForkWatch();

  // True in a child forked (through the C library's fork, as os.fork does) since the
  // watch was made. One load and compare: cheap enough for after every call.
  bool inForkedChild() const noexcept;
  // The same, asking the kernel (a fork made with the raw system call included): for
  // between chunks of calls.
  bool inForkedChildStrict() const noexcept;

 private:
  pid_t owner_;
};

// Ends a child the target forked at once and silently: no atexit handlers, no stdio
// flush (the parent's buffered output would be written twice), no report.
[[noreturn]] void leaveForkedChild() noexcept;

// Ends the process now with `code`, through the system call (past psleak's own exit
// interposer and any atexit handler).
[[noreturn]] void exitProcess(int code) noexcept;

}  // namespace psleak::platform
