#include "runner/progress.h"

#include <algorithm>

#include "runner/growth_guard.h"

namespace psleak {

void copyStepText(char* out, std::size_t size, const char* text) noexcept {
  if (size == 0) return;
  std::size_t i = 0;
  for (; text && text[i] && i + 1 < size; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out[i] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? static_cast<char>(c) : '?';
  }
  out[i] = '\0';
}

void ProgressWorkload::startStep(const char* name, int run, std::int64_t total) noexcept {
  done_ = 0;
  total_ = total;
  progress_.step(name, run, total);
}

void ProgressWorkload::call(std::int64_t times) {
  // A step of unknown size still moves: pieces of what this call makes.
  const std::int64_t whole = total_ > 0 ? total_ : times;
  const std::int64_t piece = std::max<std::int64_t>(1, whole / kProgressChunks);
  std::int64_t made = 0;
  while (made < times) {
    const std::int64_t now = std::min(piece, times - made);
    try {
      inner_.call(now);
    } catch (const GrowthLimitExceeded& e) {
      // The calls completed are this call's, not only the last piece's.
      throw GrowthLimitExceeded(e.past(), e.limit(), made + e.callsCompleted());
    }
    made += now;
    done_ += now;
    progress_.advance(done_);
  }
}

}  // namespace psleak
