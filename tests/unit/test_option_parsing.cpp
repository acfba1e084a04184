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

TEST(ParseByteCount, AtMost1024GAndMoreNamesTheRange) {
  EXPECT_EQ(parseByteCount("1024G", "--x"), kMaxByteCount);
  EXPECT_EQ(parseByteCount("1099511627776", "--x"), kMaxByteCount);
  EXPECT_EQ(usageErrorOf([] { parseByteCount("1025G", "--max-growth"); }),
            "--max-growth: 1025G is not in 0..1024G");
  EXPECT_EQ(usageErrorOf([] { parseByteCount("1099511627777", "--x"); }),
            "--x: 1099511627777 is not in 0..1024G");
  for (const char* huge :
       {"9223372036854775808", "99999999999999999999999", "9000000000G", "8589934592G"}) {
    EXPECT_NE(usageErrorOf([&] { parseByteCount(huge, "--x"); }).find("0..1024G"),
              std::string::npos)
        << huge;
  }
  // A bad unit after many digits is still a malformed count, not a large one.
  EXPECT_NE(usageErrorOf([] {
              parseByteCount("99999999999999999999XB", "--x");
            }).find("expected a byte count"),
            std::string::npos);
}

TEST(ParseInteger, WholeNumbersInTheRange) {
  EXPECT_EQ(parseInteger("1", "--calls", kCallsRange), 1);
  EXPECT_EQ(parseInteger("10000000", "--calls", kCallsRange), 10'000'000);
  EXPECT_EQ(parseInteger("007", "--calls", kCallsRange), 7);
  EXPECT_EQ(parseInteger("0", "--warmup", kWarmupRange), 0);
  EXPECT_EQ(parseInteger("-3", "--x", IntegerRange{-5, 5}), -3);
  EXPECT_EQ(parseInteger("-5", "--x", IntegerRange{-5, 5}), -5);
}

TEST(ParseInteger, OutOfRangeNamesOptionValueAndRangeInPlainNumbers) {
  EXPECT_EQ(usageErrorOf([] { parseInteger("0", "--trace-top", kTraceTopRange); }),
            "--trace-top: 0 is not in 1..1000");
  EXPECT_EQ(usageErrorOf([] { parseInteger("10000001", "--calls", kCallsRange); }),
            "--calls: 10000001 is not in 1..10000000");
  EXPECT_EQ(usageErrorOf([] { parseInteger("-1", "--warmup", kWarmupRange); }),
            "--warmup: -1 is not in 0..1000000");
  EXPECT_EQ(usageErrorOf([] {
              parseInteger("-6", "--x", IntegerRange{-5, 5});
            }),
            "--x: -6 is not in -5..5");
  EXPECT_EQ(usageErrorOf([] { parseInteger("1001", "--retries", kRetriesRange); }),
            "--retries: 1001 is not in 1..1000");
  EXPECT_EQ(usageErrorOf([] { parseInteger("257", "--jobs", kJobsRange); }),
            "--jobs: 257 is not in 1..256");
}

TEST(ParseInteger, HugeNumbersAreRejectedNotClamped) {
  EXPECT_EQ(usageErrorOf([] { parseInteger("99999999999999999999", "--calls", kCallsRange); }),
            "--calls: 99999999999999999999 is not in 1..10000000");
  EXPECT_EQ(usageErrorOf([] { parseInteger("9223372036854775808", "--calls", kCallsRange); }),
            "--calls: 9223372036854775808 is not in 1..10000000");
  EXPECT_EQ(usageErrorOf([] { parseInteger("-99999999999999999999", "--calls", kCallsRange); }),
            "--calls: -99999999999999999999 is not in 1..10000000");
  // A very long value is shown cut short; the range in full.
  const std::string message =
      usageErrorOf([] { parseInteger(std::string(400, '9'), "--calls", kCallsRange); });
  EXPECT_LT(message.size(), 100u) << message;
  EXPECT_NE(message.find("is not in 1..10000000"), std::string::npos) << message;
}

TEST(ParseInteger, NotAWholeNumberIsUsageErrorWithTheRange) {
  for (const char* bad : {"", "-", "abc", "1.5", "1e3", " 5", "5 ", "+5", "0x10", "5k", "--5"}) {
    const std::string message = usageErrorOf([&] { parseInteger(bad, "--calls", kCallsRange); });
    EXPECT_EQ(message, std::string("--calls: '") + bad + "' is not a whole number in 1..10000000")
        << "'" << bad << "'";
  }
}

TEST(CheckInRange, SameWordingAsParsing) {
  EXPECT_NO_THROW(checkInRange(1000, "--retries", kRetriesRange));
  EXPECT_EQ(usageErrorOf([] { checkInRange(0, "--retries", kRetriesRange); }),
            "--retries: 0 is not in 1..1000");
}

TEST(ParseSeconds, FiniteNumbersUpToAWeek) {
  EXPECT_DOUBLE_EQ(parseSeconds("0", "--timeout"), 0);
  EXPECT_DOUBLE_EQ(parseSeconds("2.5", "--timeout"), 2.5);
  EXPECT_DOUBLE_EQ(parseSeconds("1e3", "--timeout"), 1000);
  EXPECT_DOUBLE_EQ(parseSeconds("604800", "--timeout"), kMaxTimeoutSeconds);
}

TEST(ParseSeconds, NanAndInfinitiesAreNoNumberOfSeconds) {
  for (const char* bad : {"nan", "NaN", "-nan", "inf", "-inf", "+inf", "infinity", "", "abc",
                          "0x10", " 1", "1s", "1..2"}) {
    EXPECT_EQ(
        usageErrorOf([&] { parseSeconds(bad, "--timeout"); }),
        std::string("--timeout: '") + bad + "' is not a number in 0..604800 seconds (0: no limit)")
        << "'" << bad << "'";
  }
}

TEST(ParseSeconds, OutOfRangeNamesTheRangeWithoutLongDecimals) {
  EXPECT_EQ(usageErrorOf([] { parseSeconds("-1", "--timeout"); }),
            "--timeout: -1 is not in 0..604800 seconds (0: no limit)");
  EXPECT_EQ(usageErrorOf([] { parseSeconds("604801", "--timeout"); }),
            "--timeout: 604801 is not in 0..604800 seconds (0: no limit)");
  // Overflows to infinity: out of range, said in the user's own words.
  EXPECT_EQ(usageErrorOf([] { parseSeconds("1e400", "--timeout"); }),
            "--timeout: 1e400 is not in 0..604800 seconds (0: no limit)");
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
