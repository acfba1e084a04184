#pragma once
// A check in a child process of its own (`psleak run --isolate`, and every target of a
// scan): a target that crashes or hangs ends its own process, and the parent still
// reports what was measured, the signal, and the run it happened in.

#include <chrono>
#include <optional>
#include <string>

#include "commands/run_command.h"
#include "psleak/platform/child_process.h"
#include "report/report.h"

namespace psleak {

// One isolated check in flight. The child reports JSON lines ({"run": ...} per run, then
// {"report": ...}); the parent turns them back into a Report. Several can be driven at
// once by polling their fds.
class IsolatedCheck {
 public:
  // Forks the child. `timeoutSeconds` (0: none) bounds the whole check.
  IsolatedCheck(const RunOptions& options, double timeoutSeconds);

  int fd() const { return child_.readFd(); }
  // Milliseconds left before the timeout (-1: none); 0 once it has passed.
  int millisecondsLeft() const;
  // Reads what the child sent; passes each new run to `onRun`. Returns false once the
  // child is done (pipe closed) or the timeout passed (the child is then killed).
  bool pump(const RunCallback& onRun);
  // Passes Ctrl-C on to the child, once.
  void interrupt();
  // Waits for the child and returns its report, or one that says how it died.
  Report finish();

 private:
  using Clock = std::chrono::steady_clock;
  Report partial_;
  std::optional<Report> finished_;
  platform::ChildProcess child_;
  Clock::time_point start_;
  double timeoutSeconds_;
  std::string buffer_;
  bool timedOut_ = false;
  bool interrupted_ = false;
  bool killedAfterInterrupt_ = false;
  Clock::time_point interruptedAt_;
};

// How long a child may take to stop after Ctrl-C is passed on (it stops between two
// calls; a target hung inside one call never gets there) before it is killed.
inline constexpr double kInterruptGraceSeconds = 2.0;

// One isolated check, start to end (the parent's Ctrl-C is passed on to it).
Report runIsolated(const RunOptions& options, const RunCallback& onRun, double timeoutSeconds);

}  // namespace psleak
