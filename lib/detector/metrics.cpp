#include "detector/metrics.h"

namespace psleak {
namespace {

struct MetricNames {
  std::string_view name;
  std::string_view label;
};

constexpr std::array<MetricNames, kMetricCount> kNames = {{
    {"heap_used", "heap"},
    {"mmap_used", "mmap"},
    {"heap_total", "arena"},
    {"rss", "rss"},
    {"uss", "uss"},
    {"vms", "vms"},
    {"allocs", "allocs"},
    {"alloc_bytes", "alloc"},
}};

}  // namespace

std::string_view metricName(Metric m) { return kNames[metricIndex(m)].name; }
std::string_view metricLabel(Metric m) { return kNames[metricIndex(m)].label; }

std::optional<Metric> metricFromName(std::string_view name) {
  for (Metric m : kAllMetrics) {
    if (name == metricName(m) || name == metricLabel(m)) return m;
  }
  return std::nullopt;
}

MetricValues MetricValues::difference(const MetricValues& after, const MetricValues& before) {
  MetricValues result;
  for (Metric m : kAllMetrics) {
    if (after.has(m) && before.has(m)) result.set(m, after.get(m) - before.get(m));
  }
  return result;
}

double RunDelta::perCall(Metric m) const {
  if (!growth.has(m) || calls <= 0) return 0.0;
  return static_cast<double>(growth.get(m)) / static_cast<double>(calls);
}

}  // namespace psleak
