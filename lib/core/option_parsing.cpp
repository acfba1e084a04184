#include "core/option_parsing.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "core/errors.h"

namespace psleak {
namespace {

std::string knownMetrics() {
  std::string names;
  for (Metric m : kAllMetrics) {
    if (!names.empty()) names += ", ";
    names += std::string(metricLabel(m)) + "/" + std::string(metricName(m));
  }
  return names;
}

// The text as typed, cut short if it is long (a pasted line, 300 digits).
std::string shown(const std::string& text) {
  constexpr std::size_t kMaxShown = 40;
  return text.size() <= kMaxShown ? text : text.substr(0, kMaxShown) + "...";
}

std::string rangeText(IntegerRange range) {
  return std::to_string(range.min) + ".." + std::to_string(range.max);
}

std::string secondsRangeText() {
  return "0.." + std::to_string(static_cast<std::int64_t>(kMaxTimeoutSeconds)) +
         " seconds (0: no limit)";
}

}  // namespace

std::int64_t parseInteger(const std::string& text, const std::string& option, IntegerRange range) {
  const bool negative = !text.empty() && text[0] == '-';
  const std::size_t first = negative ? 1 : 0;
  if (text.size() == first || text.find_first_not_of("0123456789", first) != std::string::npos) {
    throw UsageError(option + ": '" + shown(text) + "' is not a whole number in " +
                     rangeText(range));
  }
  // Digit by digit, stopping once the value has left the range: 99999999999999999999 is
  // reported as typed, never clamped to the largest integer.
  const std::int64_t limit = negative ? -range.min : range.max;  // the largest magnitude
  std::int64_t magnitude = 0;
  bool inRange = limit >= 0;
  for (std::size_t i = first; i < text.size() && inRange; ++i) {
    const int digit = text[i] - '0';
    inRange = magnitude <= (limit - digit) / 10;
    if (inRange) magnitude = magnitude * 10 + digit;
  }
  if (!inRange) throw UsageError(option + ": " + shown(text) + " is not in " + rangeText(range));
  const std::int64_t value = negative ? -magnitude : magnitude;
  checkInRange(value, option, range);
  return value;
}

void checkInRange(std::int64_t value, const std::string& option, IntegerRange range) {
  if (value < range.min || value > range.max) {
    throw UsageError(option + ": " + std::to_string(value) + " is not in " + rangeText(range));
  }
}

double parseSeconds(const std::string& text, const std::string& option) {
  // Digits, a point, an exponent and signs only: no "nan", "inf", hex or spaces.
  const bool plain =
      !text.empty() && text.find_first_not_of("0123456789.eE+-") == std::string::npos;
  char* end = nullptr;
  const double value = plain ? std::strtod(text.c_str(), &end) : 0;
  if (!plain || end != text.c_str() + text.size()) {
    throw UsageError(option + ": '" + shown(text) + "' is not a number in " + secondsRangeText());
  }
  if (!std::isfinite(value) || value < 0 || value > kMaxTimeoutSeconds) {
    throw UsageError(option + ": " + shown(text) + " is not in " + secondsRangeText());
  }
  return value;
}

std::int64_t parseByteCount(const std::string& text, const std::string& option) {
  const std::string bad = option + " '" + text + "': expected a byte count such as 4096, 4K or 1MiB";
  std::size_t i = 0;
  std::int64_t value = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) throw UsageError(bad);
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    // Held at one past the largest: the unit is still to be read ("12XB" is malformed).
    value = std::min(value * 10 + (text[i++] - '0'), kMaxByteCount + 1);
  }
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::int64_t multiplier = 1;
  if (unit.empty() || unit == "b") {
    multiplier = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    multiplier = std::int64_t{1} << 10;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    multiplier = std::int64_t{1} << 20;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    multiplier = std::int64_t{1} << 30;
  } else {
    throw UsageError(bad);
  }
  if (value > kMaxByteCount / multiplier) {
    throw UsageError(option + ": " + shown(text) + " is not in 0..1024G");
  }
  return value * multiplier;
}

void applyTolerance(const std::string& text, Tolerance& tolerance) {
  const std::size_t equals = text.find('=');
  if (equals == std::string::npos) {
    tolerance = Tolerance(parseByteCount(text, "--tolerance"));
    return;
  }
  const std::string name = text.substr(0, equals);
  const auto metric = metricFromName(name);
  if (!metric) {
    throw UsageError("--tolerance '" + text + "': unknown metric '" + name + "' (known: " +
                     knownMetrics() + ")");
  }
  tolerance.set(*metric, parseByteCount(text.substr(equals + 1), "--tolerance " + name));
}

}  // namespace psleak
