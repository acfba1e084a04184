#pragma once
// Values of command-line options that need more than a number.

#include <cstdint>
#include <string>

#include "detector/leak_detector.h"

namespace psleak {

// The values a numeric option accepts (README and man/psleak.1 list them).
struct IntegerRange {
  std::int64_t min;
  std::int64_t max;
};
inline constexpr IntegerRange kWarmupRange{0, 1'000'000};  // --warmup
inline constexpr IntegerRange kCallsRange{1, 10'000'000};  // --calls
inline constexpr IntegerRange kRetriesRange{1, 1'000};     // --retries
inline constexpr IntegerRange kTraceTopRange{1, 1'000};    // --trace-top
inline constexpr IntegerRange kJobsRange{1, 256};          // -j/--jobs
// --timeout: 0 (no limit) up to one week.
inline constexpr double kMaxTimeoutSeconds = 7 * 24 * 3600;
// --max-growth and --tolerance: 0 up to 1024G.
inline constexpr std::int64_t kMaxByteCount = std::int64_t{1} << 40;

// A whole decimal number ("200", "-1"). Throws UsageError naming `option` and the range
// in plain numbers: "--trace-top: 0 is not in 1..1000", "--calls: 'abc' is not a whole
// number in 1..10000000".
std::int64_t parseInteger(const std::string& text, const std::string& option, IntegerRange range);

// Throws UsageError, worded as parseInteger's, if `value` is outside `range`.
void checkInRange(std::int64_t value, const std::string& option, IntegerRange range);

// Seconds for --timeout: a finite decimal number ("2", "0.5", "1e3") in
// 0..kMaxTimeoutSeconds; NaN and infinities are no number of seconds. Throws UsageError.
double parseSeconds(const std::string& text, const std::string& option);

// "4096", "4K", "1MiB": a byte count in 0..kMaxByteCount. Throws UsageError naming
// `option` if malformed or too large.
std::int64_t parseByteCount(const std::string& text, const std::string& option);

// Applies one --tolerance value: "BYTES" sets every metric, "METRIC=BYTES" one metric
// ("heap=4096", "heap_used=4K"). Throws UsageError for an unknown metric or bad number.
void applyTolerance(const std::string& text, Tolerance& tolerance);

}  // namespace psleak
