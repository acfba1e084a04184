#include "core/option_parsing.h"

#include <cctype>
#include <limits>

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

}  // namespace

std::int64_t parseByteCount(const std::string& text, const std::string& option) {
  const std::string bad = option + " '" + text + "': expected a byte count such as 4096, 4K or 1MiB";
  std::size_t i = 0;
  std::int64_t value = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) throw UsageError(bad);
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    const int digit = text[i++] - '0';
    if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) throw UsageError(bad);
    value = value * 10 + digit;
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
  if (value > std::numeric_limits<std::int64_t>::max() / multiplier) throw UsageError(bad);
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
