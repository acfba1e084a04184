#pragma once
// The progress line: one line on stderr, redrawn in place, that says which step of a
// check is running, how many of its calls are done, and for how long. A thread of its
// own redraws it, so a step that makes no progress (one slow call, symbolization) still
// shows its time going by. Drawn only when stderr is a terminal, not with --json and
// not in CI; only once the check has run for a moment (PSLEAK_PROGRESS_DELAY seconds,
// 0.5 by default), so quick checks print their lines and nothing else.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "runner/progress.h"
#include "terminal_output.h"

namespace psleak::cli {

class ProgressLine : public Progress {
 public:
  // A line for this process's output, or null when none is to be drawn.
  static std::unique_ptr<ProgressLine> create(const OutputOptions& options);
  ~ProgressLine() override;  // stops redrawing and takes the line off the screen

  void step(const char* name, int run, std::int64_t total, const char* unit) noexcept override;
  void advance(std::int64_t done) noexcept override;
  // Takes the line off the screen until the next step or advance, before a result line
  // is printed.
  void hide() noexcept;

 private:
  using Clock = std::chrono::steady_clock;
  explicit ProgressLine(Clock::duration delay);
  // Draws the line if it may be shown. Called with mutex_ held.
  void drawLocked(Clock::time_point now) noexcept;
  void redrawUntilStopped();

  const Clock::time_point start_ = Clock::now();
  const Clock::duration delay_;
  std::mutex mutex_;  // guards everything below and the terminal's line
  std::condition_variable stopped_;
  bool stop_ = false;
  bool hidden_ = true;  // nothing to show until the first step
  bool shown_ = false;  // the line is on the screen
  char name_[48] = {};
  char unit_[16] = {};
  int run_ = 0;
  std::int64_t done_ = 0;
  std::int64_t total_ = 0;
  Clock::time_point stepStart_ = start_;
  Clock::time_point lastDraw_ = start_;
  std::thread redrawer_;
};

// Takes the progress line of this process off the screen, if one is shown (before a
// result line is printed).
void clearProgressLine();
// Whether this process has a progress line that may be on the screen.
bool progressLineActive();

}  // namespace psleak::cli
