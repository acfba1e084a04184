// Option values: byte counts and --tolerance.

#include "core/option_parsing.h"

#include <gtest/gtest.h>

#include <string>

#include "core/errors.h"

namespace psleak {
namespace {

// The message of the UsageError that `parse` throws, or "" if it throws none.
template <typename Parse>
std::string usageErrorOf(Parse parse) {
  try {
    parse();
  } catch (const UsageError& error) {
    return error.what();
  }
  return "";
}

TEST(ParseByteCount, PlainNumbers) {
  EXPECT_EQ(parseByteCount("0", "--x"), 0);
  EXPECT_EQ(parseByteCount("4096", "--x"), 4096);
  EXPECT_EQ(parseByteCount("4096b", "--x"), 4096);
}

TEST(ParseByteCount, BinaryUnitsInAnyCase) {
  EXPECT_EQ(parseByteCount("4K", "--x"), 4096);
  EXPECT_EQ(parseByteCount("4k", "--x"), 4096);
  EXPECT_EQ(parseByteCount("4KB", "--x"), 4096);
  EXPECT_EQ(parseByteCount("1MiB", "--x"), 1 << 20);
  EXPECT_EQ(parseByteCount("3m", "--x"), 3 << 20);
  EXPECT_EQ(parseByteCount("2g", "--x"), std::int64_t{2} << 30);
  EXPECT_EQ(parseByteCount("2GiB", "--x"), std::int64_t{2} << 30);
}

TEST(ParseByteCount, MalformedIsUsageErrorNamingOptionAndText) {
  for (const char* bad : {"", "-1", "+1", "4X", "K", " 4", "4 K", "4KiBs", "1.5M", "0x10"}) {
    const std::string message = usageErrorOf([&] { parseByteCount(bad, "--tolerance"); });
    EXPECT_NE(message.find("--tolerance"), std::string::npos) << "'" << bad << "': " << message;
    EXPECT_NE(message.find(std::string("'") + bad + "'"), std::string::npos) << message;
  }
}

TEST(ParseByteCount, OverflowIsUsageError) {
  EXPECT_THROW(parseByteCount("9223372036854775808", "--x"), UsageError);
  EXPECT_THROW(parseByteCount("99999999999999999999999", "--x"), UsageError);
  EXPECT_THROW(parseByteCount("9000000000G", "--x"), UsageError);
  EXPECT_EQ(parseByteCount("8589934591G", "--x"), std::int64_t{8589934591} << 30);
  EXPECT_THROW(parseByteCount("8589934592G", "--x"), UsageError);
}

TEST(ApplyTolerance, BareByteCountSetsEveryMetric) {
  Tolerance tolerance;
  tolerance.set(Metric::Rss, 1);
  applyTolerance("4K", tolerance);
  for (Metric m : kAllMetrics) EXPECT_EQ(tolerance.get(m), 4096) << metricName(m);
}

TEST(ApplyTolerance, MetricEqualsBytesSetsOneMetricByLabelOrName) {
  Tolerance tolerance(7);
  applyTolerance("heap=4096", tolerance);
  EXPECT_EQ(tolerance.get(Metric::HeapUsed), 4096);
  applyTolerance("mmap_used=4K", tolerance);
  EXPECT_EQ(tolerance.get(Metric::MmapUsed), 4096);
  applyTolerance("arena=1M", tolerance);
  EXPECT_EQ(tolerance.get(Metric::HeapTotal), 1 << 20);
  applyTolerance("heap_used=8K", tolerance);
  EXPECT_EQ(tolerance.get(Metric::HeapUsed), 8192);
  for (Metric m : {Metric::Rss, Metric::Uss, Metric::Vms}) {
    EXPECT_EQ(tolerance.get(m), 7) << metricName(m);
  }
}

TEST(ApplyTolerance, UnknownMetricIsUsageErrorNamingIt) {
  Tolerance tolerance(7);
  const std::string message = usageErrorOf([&] { applyTolerance("heapp=4096", tolerance); });
  EXPECT_NE(message.find("'heapp'"), std::string::npos) << message;
  EXPECT_NE(message.find("heap_used"), std::string::npos) << message;  // lists the known ones
  EXPECT_EQ(tolerance.get(Metric::HeapUsed), 7);
  EXPECT_THROW(applyTolerance("=4096", tolerance), UsageError);
}

TEST(ApplyTolerance, BadBytesAfterMetricIsUsageError) {
  Tolerance tolerance(7);
  const std::string message = usageErrorOf([&] { applyTolerance("heap=4X", tolerance); });
  EXPECT_NE(message.find("--tolerance heap"), std::string::npos) << message;
  EXPECT_THROW(applyTolerance("heap=", tolerance), UsageError);
  EXPECT_THROW(applyTolerance("", tolerance), UsageError);
  EXPECT_EQ(tolerance.get(Metric::HeapUsed), 7);
}

TEST(MetricNames, NameAndLabelBothResolve) {
  for (Metric m : kAllMetrics) {
    EXPECT_EQ(metricFromName(metricName(m)), m);
    EXPECT_EQ(metricFromName(metricLabel(m)), m);
  }
  EXPECT_EQ(metricFromName("heap"), Metric::HeapUsed);
  EXPECT_EQ(metricFromName("arena"), Metric::HeapTotal);
  EXPECT_EQ(metricFromName("HEAP"), std::nullopt);
  EXPECT_EQ(metricFromName(""), std::nullopt);
}

}  // namespace
}  // namespace psleak
