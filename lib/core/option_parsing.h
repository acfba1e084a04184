#pragma once
// Values of command-line options that need more than a number.

#include <cstdint>
#include <string>

#include "detector/leak_detector.h"

namespace psleak {

// "4096", "4K", "1MiB": a byte count. Throws UsageError naming `option` if malformed.
std::int64_t parseByteCount(const std::string& text, const std::string& option);

// Applies one --tolerance value: "BYTES" sets every metric, "METRIC=BYTES" one metric
// ("heap=4096", "heap_used=4K"). Throws UsageError for an unknown metric or bad number.
void applyTolerance(const std::string& text, Tolerance& tolerance);

}  // namespace psleak
