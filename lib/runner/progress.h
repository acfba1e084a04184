#pragma once
// Where a check is, told to whoever shows it (a progress line on a terminal, the parent
// of an isolated check). A check tells it between calls, inside the measured window:
// implementations must not allocate or take a lock that malloc may take.

#include <cstddef>
#include <cstdint>

#include "runner/memory_check.h"

namespace psleak {

class Progress {
 public:
  virtual ~Progress() = default;
  // A new step starts ("warm-up", "run", "symbolizing", ...; the text is copied). `run` is
  // the run's number for a memory run, else 0. `total` is how many `unit`s the step will
  // count (0: not known in advance).
  virtual void step(const char* name, int run, std::int64_t total, const char* unit = "calls") noexcept = 0;
  // `done` of the step's units are done.
  virtual void advance(std::int64_t done) noexcept = 0;
};

// Copies `text` (null: empty) into `out` of `size` bytes, cut to fit, as printable
// ASCII without quotes or backslashes ('?' in their place): a step's name as a progress
// line or a JSON string can show it, copied without allocating.
void copyStepText(char* out, std::size_t size, const char* text) noexcept;

// How many pieces a step's calls are made in, so that progress moves during a long step.
inline constexpr std::int64_t kProgressChunks = 16;

// The calls of `inner`, made in pieces with `progress` told after each. The count is the
// step's: it starts over at each Progress::step the caller makes through `startStep`.
class ProgressWorkload : public Workload {
 public:
  ProgressWorkload(Workload& inner, Progress& progress) : inner_(inner), progress_(progress) {}

  // Starts a step of `total` calls (0: not known) and counts from zero again.
  void startStep(const char* name, int run, std::int64_t total) noexcept;
  void call(std::int64_t times) override;
  void clearCaches() override { inner_.clearCaches(); }

 private:
  Workload& inner_;
  Progress& progress_;
  std::int64_t done_ = 0;
  std::int64_t total_ = 0;
};

}  // namespace psleak
