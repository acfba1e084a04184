#pragma once
// The quantities psleak measures around each run, and the sample/delta types that
// carry them. Adding a metric means adding it here; everything else iterates.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace psleak {

enum class Metric : int {
  HeapUsed,   // allocator: bytes in use in heap blocks (mallinfo2 uordblks)
  MmapUsed,   // allocator: bytes in mmap-served blocks (mallinfo2 hblkhd)
  HeapTotal,  // allocator: arena bytes held from the OS (mallinfo2 arena)
  Rss,        // kernel: resident set size
  Uss,        // kernel: private (unique) memory
  Vms,        // kernel: virtual size
  Allocs,     // psleak's hooks: live malloc-family blocks (a count, not bytes)
  AllocBytes, // psleak's hooks: their usable bytes
};

inline constexpr int kMetricCount = 8;
inline constexpr std::array<Metric, kMetricCount> kAllMetrics = {
    Metric::HeapUsed, Metric::MmapUsed, Metric::HeapTotal, Metric::Rss,
    Metric::Uss,      Metric::Vms,      Metric::Allocs,    Metric::AllocBytes};

// True for the metric that counts blocks rather than bytes.
constexpr bool isCountMetric(Metric m) { return m == Metric::Allocs; }

constexpr int metricIndex(Metric m) { return static_cast<int>(m); }

// Name in JSON and in --tolerance: "heap_used".
std::string_view metricName(Metric m);
// Short label in the run table and accepted by --tolerance: "heap".
std::string_view metricLabel(Metric m);
// Accepts either the name or the label.
std::optional<Metric> metricFromName(std::string_view name);

// One value per metric; a metric the platform cannot measure is absent.
class MetricValues {
 public:
  void set(Metric m, std::int64_t value) {
    values_[metricIndex(m)] = value;
    present_[metricIndex(m)] = true;
  }
  bool has(Metric m) const { return present_[metricIndex(m)]; }
  std::int64_t get(Metric m) const { return values_[metricIndex(m)]; }
  std::optional<std::int64_t> find(Metric m) const {
    return has(m) ? std::optional<std::int64_t>(get(m)) : std::nullopt;
  }

  // after - before, for the metrics both have.
  static MetricValues difference(const MetricValues& after, const MetricValues& before);

 private:
  std::array<std::int64_t, kMetricCount> values_{};
  std::array<bool, kMetricCount> present_{};
};

using Sample = MetricValues;

// What one run measured: the calls it made and how much each metric grew.
struct RunDelta {
  int run = 0;            // 1-based
  std::int64_t calls = 0;
  MetricValues growth;

  // Growth per call of one metric (0 when absent or no calls).
  double perCall(Metric m) const;
};

}  // namespace psleak
