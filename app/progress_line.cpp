#include "progress_line.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace psleak::cli {
namespace {

ProgressLine* gActive = nullptr;  // the line clearProgressLine() hides

// How often the line is redrawn while nothing else moves it, and at most how often a
// step's calls redraw it.
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);
constexpr auto kDefaultDelay = std::chrono::milliseconds(500);

// PSLEAK_PROGRESS_DELAY in seconds; the default when unset or not a number >= 0.
std::chrono::steady_clock::duration delayFromEnvironment() {
  const char* text = std::getenv("PSLEAK_PROGRESS_DELAY");
  if (!text || !*text) return kDefaultDelay;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (*end != '\0' || !(seconds >= 0) || seconds > 3600) return kDefaultDelay;
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

// Tenths of a second, as "12.3".
void formatSeconds(char* out, std::size_t size, std::chrono::steady_clock::duration d) {
  const long long tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  std::snprintf(out, size, "%lld.%lld", tenths / 10, tenths % 10);
}

int terminalColumns() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void writeStderr(const char* text, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, length);
    if (n <= 0) return;  // a line lost is not worth more
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

}  // namespace

std::unique_ptr<ProgressLine> ProgressLine::create(const OutputOptions& options) {
  if (options.json || !::isatty(STDERR_FILENO) || runningInCi()) return nullptr;
  std::unique_ptr<ProgressLine> line(new ProgressLine(delayFromEnvironment()));
  gActive = line.get();
  return line;
}

ProgressLine::ProgressLine(Clock::duration delay) : delay_(delay) {
  // Started before any target code runs: the thread is there, the same, in every sample.
  redrawer_ = std::thread([this] { redrawUntilStopped(); });
}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  stopped_.notify_all();
  redrawer_.join();
  hide();
  if (gActive == this) gActive = nullptr;
}

void ProgressLine::redrawUntilStopped() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    stopped_.wait_for(lock, kRedrawInterval);
    if (!stop_) drawLocked(Clock::now());
  }
}

void ProgressLine::step(const char* name, int run, std::int64_t total, const char* unit) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  copyStepText(name_, sizeof name_, name);
  copyStepText(unit_, sizeof unit_, unit);
  run_ = run;
  total_ = total;
  done_ = 0;
  const Clock::time_point now = Clock::now();
  stepStart_ = now;
  hidden_ = false;
  drawLocked(now);
}

void ProgressLine::advance(std::int64_t done) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  hidden_ = false;
  const Clock::time_point now = Clock::now();
  if (now - lastDraw_ >= kRedrawInterval || (total_ > 0 && done >= total_)) drawLocked(now);
}

void ProgressLine::hide() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  hidden_ = true;
  if (shown_) writeStderr("\r\033[K", 4);
  shown_ = false;
}

void ProgressLine::drawLocked(Clock::time_point now) noexcept {
  if (hidden_ || stop_ || now - start_ < delay_) return;
  char stepTime[24], allTime[24], count[64] = "";
  formatSeconds(stepTime, sizeof stepTime, now - stepStart_);
  formatSeconds(allTime, sizeof allTime, now - start_);
  if (total_ > 0) {
    std::snprintf(count, sizeof count, ": %lld/%lld %s", static_cast<long long>(done_),
                  static_cast<long long>(total_), unit_);
  } else if (done_ > 0) {
    std::snprintf(count, sizeof count, ": %lld %s", static_cast<long long>(done_), unit_);
  }
  char runNumber[16] = "";
  if (run_ > 0) std::snprintf(runNumber, sizeof runNumber, " %d", run_);
  char line[256];
  int n = std::snprintf(line, sizeof line, "\r\033[K  %s%s%s, %s s (%s s in all)", name_, runNumber,
                        count, stepTime, allTime);
  if (n <= 0) return;
  // One screen line at most: a wrapped line would not be erased by "\r".
  const int visible = terminalColumns() - 1;
  n = std::min({n, static_cast<int>(sizeof line) - 1, visible > 4 ? 4 + visible : n});
  writeStderr(line, static_cast<std::size_t>(n));
  shown_ = true;
  lastDraw_ = now;
}

bool progressLineActive() { return gActive != nullptr; }

void clearProgressLine() {
  if (gActive) gActive->hide();
}

}  // namespace psleak::cli
