#pragma once
// A check in a child process of its own (`psleak run --isolate`, and every target of a
// scan): a target that crashes or hangs ends its own process, and the parent still
// reports what was measured, the signal, and the run it happened in.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands/run_command.h"
#include "psleak/platform/child_process.h"
#include "report/report.h"

namespace psleak {

// One isolated check in flight. The child reports JSON lines ({"phase": ...} as each
// step starts, {"run": ...} as each run ends, then {"report": ...}); the parent turns
// them back into a Report. Several can be driven at once by polling their fds.
class IsolatedCheck {
 public:
  // Forks the child. `timeoutSeconds` (0: none) bounds the whole check. The child's
  // steps and calls go to `options.progress`, if set, as they come.
  IsolatedCheck(const RunOptions& options, double timeoutSeconds);

  // What to poll: the pipe, and a descriptor that is readable once the child ended.
  std::vector<int> fds() const;
  // How long to poll at most (-1: no limit): until the timeout, and briefly when the
  // kernel cannot tell through a descriptor that the child ended.
  int pollMilliseconds() const;
  // Reads what the child sent; passes each new run to `onRun`. Returns false once the
  // check is done: the report is in, the child ended (a helper process it started may
  // still hold the pipe open), or the timeout passed (the child is then killed).
  bool pump(const RunCallback& onRun);
  // Passes Ctrl-C or SIGTERM on to the child, once.
  void interrupt();
  // Waits for the child and returns its report, or one that says how it died and where.
  // Helper processes the target left running are named in a warning and killed with the
  // child's process group.
  Report finish();

 private:
  using Clock = std::chrono::steady_clock;
  // Milliseconds left before the timeout (-1: none); 0 once it has passed.
  int millisecondsLeft() const;
  void readLines(const RunCallback& onRun);
  void showProgress(const nlohmann::ordered_json& progress);

  Report partial_;
  Progress* progress_;
  std::string phase_ = kImportPhase;  // where the child is, as it last said
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
