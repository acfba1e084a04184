// The text users see: byte sizes, run lines, verdict lines and messages, exit codes.

#include "report/format.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "report/report.h"
#include "report_samples.h"

namespace psleak {
namespace {

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

TEST(FormatBytes, WholeBytesBelowOneKiB) {
  EXPECT_EQ(formatBytes(0, false), "+0 B");
  EXPECT_EQ(formatBytes(512, false), "+512 B");
  EXPECT_EQ(formatBytes(-512, false), "-512 B");
  EXPECT_EQ(formatBytes(1023, false), "+1023 B");
}

TEST(FormatBytes, BinaryUnitsWithOneDecimal) {
  EXPECT_EQ(formatBytes(1024, false), "+1.0 KiB");
  EXPECT_EQ(formatBytes(1945, false), "+1.9 KiB");
  EXPECT_EQ(formatBytes(-1945, false), "-1.9 KiB");
  EXPECT_EQ(formatBytes(1536.0 * 1024, false), "+1.5 MiB");
  EXPECT_EQ(formatBytes(3.0 * 1024 * 1024 * 1024, false), "+3.0 GiB");
}

TEST(FormatBytes, FractionKeptForSmallPerCallAverages) {
  EXPECT_EQ(formatBytes(2.5, false), "+2.5 B");
  EXPECT_EQ(formatBytes(-0.5, false), "-0.5 B");
  EXPECT_EQ(formatBytes(12.4, false), "+12 B");
}

TEST(FormatBytes, UnsignedLeavesOutThePlusOnly) {
  EXPECT_EQ(formatBytes(1024, false, false), "1.0 KiB");
  EXPECT_EQ(formatBytes(0, false, false), "0 B");
  EXPECT_EQ(formatBytes(-1024, false, false), "-1.0 KiB");
}

TEST(FormatBytes, RawBytesAreRoundedIntegers) {
  EXPECT_EQ(formatBytes(1945, true), "+1945");
  EXPECT_EQ(formatBytes(-7, true), "-7");
  EXPECT_EQ(formatBytes(1945, true, false), "1945");
  EXPECT_EQ(formatBytes(2.6, true), "+3");
  EXPECT_EQ(formatBytes(5.0 * 1024 * 1024, true), "+5242880");
}

RunDelta runOf(int run, std::int64_t calls) {
  RunDelta delta;
  delta.run = run;
  delta.calls = calls;
  return delta;
}

TEST(BytesPerCall, HeapPlusMmap) {
  RunDelta run = runOf(1, 100);
  run.growth.set(Metric::HeapUsed, 1000);
  run.growth.set(Metric::MmapUsed, 3000);
  run.growth.set(Metric::Uss, 999999);
  EXPECT_DOUBLE_EQ(bytesPerCall(run), 40.0);
}

TEST(BytesPerCall, HeapAloneWhenMmapAbsent) {
  RunDelta run = runOf(1, 200);
  run.growth.set(Metric::HeapUsed, 300);
  run.growth.set(Metric::Uss, 999999);
  EXPECT_DOUBLE_EQ(bytesPerCall(run), 1.5);
}

TEST(BytesPerCall, UssWhenTheAllocatorHasNoStatistics) {
  RunDelta run = runOf(1, 400);
  run.growth.set(Metric::Uss, 4096 * 100);
  run.growth.set(Metric::Rss, 1);
  EXPECT_DOUBLE_EQ(bytesPerCall(run), 1024.0);
}

TEST(BytesPerCall, ZeroWithoutCallsOrMetrics) {
  RunDelta noCalls = runOf(1, 0);
  noCalls.growth.set(Metric::HeapUsed, 1000);
  EXPECT_DOUBLE_EQ(bytesPerCall(noCalls), 0.0);
  EXPECT_DOUBLE_EQ(bytesPerCall(runOf(1, 100)), 0.0);
}

TEST(FormatRunLine, ShapeOfTheSeedDesign) {
  RunDelta run = runOf(3, 400);
  run.growth.set(Metric::HeapUsed, 778342);  // 760.1 KiB
  run.growth.set(Metric::MmapUsed, 0);
  run.growth.set(Metric::Uss, 782336);
  run.growth.set(Metric::Rss, 819200);
  run.growth.set(Metric::Vms, 123);  // not in the table
  const std::string line = formatRunLine(run, TextOptions{});
  EXPECT_TRUE(startsWith(line, "Run # 3: heap=+760.1 KiB")) << line;
  EXPECT_NE(line.find("calls=  400"), std::string::npos) << line;
  EXPECT_NE(line.find("avg/call=+1.9 KiB)"), std::string::npos) << line;
  EXPECT_EQ(line.find("vms="), std::string::npos) << line;
  // Table order: heap, mmap, uss, rss.
  const auto heap = line.find("heap=");
  const auto mmap = line.find("mmap=+0 B");
  const auto uss = line.find("uss=+764.0 KiB");
  const auto rss = line.find("rss=+800.0 KiB");
  ASSERT_NE(mmap, std::string::npos) << line;
  ASSERT_NE(uss, std::string::npos) << line;
  ASSERT_NE(rss, std::string::npos) << line;
  EXPECT_LT(heap, mmap);
  EXPECT_LT(mmap, uss);
  EXPECT_LT(uss, rss);
  EXPECT_EQ(line.back(), ')');
}

TEST(FormatRunLine, ColumnsLineUpAcrossRuns) {
  RunDelta small = runOf(1, 200);
  small.growth.set(Metric::HeapUsed, 5);
  small.growth.set(Metric::Uss, 0);
  RunDelta large = runOf(12, 1300);
  large.growth.set(Metric::HeapUsed, 5 * 1024 * 1024);
  large.growth.set(Metric::Uss, 4096);
  const std::string a = formatRunLine(small, TextOptions{});
  const std::string b = formatRunLine(large, TextOptions{});
  EXPECT_TRUE(startsWith(b, "Run #12: heap=")) << b;
  EXPECT_EQ(a.find("uss="), b.find("uss=")) << a << "\n" << b;
  EXPECT_EQ(a.find("(calls="), b.find("(calls=")) << a << "\n" << b;
  EXPECT_NE(b.find("calls= 1300"), std::string::npos) << b;
}

TEST(FormatRunLine, AbsentMetricsAreLeftOut) {
  RunDelta run = runOf(1, 200);
  run.growth.set(Metric::Uss, 8192);
  const std::string line = formatRunLine(run, TextOptions{});
  EXPECT_TRUE(startsWith(line, "Run # 1: uss=+8.0 KiB")) << line;
  EXPECT_EQ(line.find("heap="), std::string::npos) << line;
  EXPECT_EQ(line.find("mmap="), std::string::npos) << line;
  EXPECT_NE(line.find("avg/call=+41 B"), std::string::npos) << line;  // USS/call: 40.96
}

TEST(FormatRunLine, RawBytes) {
  RunDelta run = runOf(2, 300);
  run.growth.set(Metric::HeapUsed, 4096);
  run.growth.set(Metric::MmapUsed, -4096);
  const std::string line = formatRunLine(run, TextOptions{true});
  EXPECT_TRUE(startsWith(line, "Run # 2: heap=+4096 ")) << line;
  EXPECT_NE(line.find("mmap=-4096 "), std::string::npos) << line;
  EXPECT_NE(line.find("avg/call=+0)"), std::string::npos) << line;
}

TEST(FormatFindings, LeaksFirstThenWarningsWithIndentedItems) {
  const std::vector<Finding> findings = {
      {CheckKind::Thread, Severity::Warning, "1 native thread running before the call ended during it",
       {"thread 42 'worker'"}},
      {CheckKind::Fd, Severity::Leak, "2 file descriptors left open by one call",
       {"fd 7 -> /dev/null", "fd 8 -> pipe:[123]"}},
      {CheckKind::Gc, Severity::Leak, "1 object left in reference cycles", {}},
  };
  EXPECT_EQ(formatFindings(findings),
            "LEAK: 2 file descriptors left open by one call\n"
            "    fd 7 -> /dev/null\n"
            "    fd 8 -> pipe:[123]\n"
            "LEAK: 1 object left in reference cycles\n"
            "WARNING: 1 native thread running before the call ended during it\n"
            "    thread 42 'worker'\n");
  EXPECT_EQ(formatFindings({}), "");
}

}  // namespace
}  // namespace psleak

namespace psleak {
namespace {

TEST(FormatTrace, NativeFramesThenPythonFramesInnermostFirst) {
  const TraceReport trace = samples::trace();
  EXPECT_EQ(formatTrace(trace, false),
            "Allocations still live after 100 traced calls: 100 blocks, 100.0 KiB; top 1 call stack:\n"
            "  #1 100 blocks, 100.0 KiB (1.00 blocks/call)\n"
            "      leak_malloc_1k at leakfix.c:71 (leakfix.so)\n"
            "      PyObject_Vectorcall (libpython3.11.so.1.0)\n"
            "      py _grow_deeper at /x/leakfix_py.py:66\n"
            "      py leak_nested at /x/leakfix_py.py:71\n");
}

// One traced call, one 16-byte block, from a stack of these frames.
TraceReport oneSite(std::vector<TraceFrame> frames, std::vector<TraceFrame> pythonFrames = {}) {
  TraceReport trace;
  trace.calls = 1;
  TraceSite site;
  site.count = 1;
  site.bytes = 16;
  site.frames = std::move(frames);
  site.pythonFrames = std::move(pythonFrames);
  trace.sites.push_back(site);
  return trace;
}

TEST(FormatTrace, LongStacksAreCutAtMaxFrames) {
  const TraceReport trace =
      oneSite(std::vector<TraceFrame>(5, TraceFrame{"f", "/lib/a.so", "", 0, FrameNaming::Symbol}),
              std::vector<TraceFrame>(4, TraceFrame{"g", "", "m.py", 3}));
  const std::string text = formatTrace(trace, true, 2);
  EXPECT_NE(text.find("      ... 3 more frames\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      ... 2 more Python frames\n"), std::string::npos) << text;
}

// A frame named after the nearest exported symbol (no debug info) names another function:
// a run of them in one object is one line saying how many; exact frames stay as they are.
TEST(FormatTrace, FramesWithoutDebugInfoAreFoldedByObject) {
  TraceReport trace;
  trace.calls = 10;
  TraceSite site;
  site.count = 10;
  site.bytes = 1024;
  const std::string python = "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0";
  site.frames = {
      {"leak_malloc_1k", "/x/leakfix.so", "leakfix.c", 71, FrameNaming::DebugInfo},
      {"ffi_prep_go_closure", "/lib/libffi.so.8", "", 0, FrameNaming::NearestSymbol},
      {"PyCFunction_GetFlags", python, "", 0, FrameNaming::NearestSymbol},
      {"_PyUnicode_EncodeUTF7", python, "", 0, FrameNaming::NearestSymbol},
      {"??", python, "", 0, FrameNaming::Unknown},
      {"PyObject_Vectorcall", python, "", 0, FrameNaming::Symbol},
      {"_PyEval_EvalFrameDefault", python, "", 0, FrameNaming::NearestSymbol},
      {"??", "", "", 0, FrameNaming::Unknown},
      {"??", "", "", 0, FrameNaming::Unknown},
  };
  trace.sites.push_back(site);
  const std::string text = formatTrace(trace, false);
  EXPECT_EQ(text,
            "Allocations still live after 10 traced calls: 0 blocks, 0 B; top 1 call stack:\n"
            "  #1 10 blocks, 1.0 KiB (1.00 blocks/call)\n"
            "      leak_malloc_1k at leakfix.c:71 (leakfix.so)\n"
            "      1 frame in libffi.so.8 (no debug info)\n"
            "      3 frames in libpython3.11.so.1.0 (no debug info)\n"
            "      PyObject_Vectorcall (libpython3.11.so.1.0)\n"
            "      1 frame in libpython3.11.so.1.0 (no debug info)\n"
            "      2 frames in an unknown object (no debug info)\n");
  for (const char* wrong : {"ffi_prep_go_closure", "PyCFunction_GetFlags", "_PyUnicode_EncodeUTF7",
                            "_PyEval_EvalFrameDefault", "??"}) {
    EXPECT_EQ(text.find(wrong), std::string::npos) << wrong;
  }
}

TEST(FormatTrace, FoldedLinesCountOnceAgainstMaxFramesAndTheRestCountsFrames) {
  std::vector<TraceFrame> frames(4, TraceFrame{"near", "/lib/a.so", "", 0, FrameNaming::NearestSymbol});
  for (const char* name : {"exact", "exact2", "exact3"}) {
    frames.push_back({name, "/lib/b.so", "", 0, FrameNaming::Symbol});
  }
  const TraceReport trace = oneSite(frames);
  const std::string text = formatTrace(trace, true, 2);
  EXPECT_NE(text.find("      4 frames in a.so (no debug info)\n      exact (b.so)\n"
                      "      ... 2 more frames\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace psleak

namespace psleak {
namespace {

TEST(FormatScanTable, SkippedCallablesAreOneLineUnlessListed) {
  const ScanReport scan = samples::scan();  // 2 skipped: a class, one needing arguments
  const std::string counted = formatScanTable(scan, TextOptions{});
  EXPECT_NE(counted.find("\n2 callables skipped (1 class, 1 needs arguments): --show-skipped lists "
                         "them\n5 targets: "),
            std::string::npos)
      << counted;
  EXPECT_EQ(counted.find("Skipped:"), std::string::npos);
  EXPECT_EQ(counted.find("leakfix:Holder"), std::string::npos);

  const std::string listed = formatScanTable(scan, TextOptions{false, /*listSkipped=*/true});
  EXPECT_NE(listed.find("\nSkipped:\n  leakfix:Holder                         class\n"
                        "  leakfix:leak_n                         needs arguments (n, <size>=0) & "
                        "more\n5 targets: "),
            std::string::npos)
      << listed;
  EXPECT_EQ(listed.find("callables skipped"), std::string::npos);
}

TEST(FormatSkipped, CountsByKindMostFrequentFirst) {
  std::vector<SkippedCallable> skipped = {
      {"m:A", "class (scan calls functions only)", "class"},
      {"m:f", "needs arguments (x)", "arguments"},
      {"m:g", "needs arguments (y)", "arguments"},
      {"m:h", "signature unknown (cannot tell whether it needs arguments)", "signature_unknown"},
      {"m:j", "imported from os", "imported"},
      {"m:k", "callable partial object, not a function", "not_function"},
      {"m:l", "getting it raised AttributeError", "raised"},
      {"m:B", "class (scan calls functions only)", "class"},
      {"m:C", "class (scan calls functions only)", "class"},
      {"m:z", "something new", ""},
  };
  EXPECT_EQ(formatSkipped(skipped, TextOptions{}),
            "10 callables skipped (3 classes, 2 need arguments, 1 with no known signature, 1 "
            "imported from other modules, 1 not a function, 1 raised when looked up, 1 other): "
            "--show-skipped lists them\n");
  EXPECT_EQ(formatSkipped({skipped[1]}, TextOptions{}),
            "1 callable skipped (1 needs arguments): --show-skipped lists them\n");
  EXPECT_EQ(formatSkipped({}, TextOptions{}), "");
  EXPECT_EQ(formatSkipped({}, TextOptions{false, true}), "");
}

TEST(FormatScanListing, OneTargetPerLine) {
  ScanListing listing;
  listing.targets = {"zlib:compressobj", "time:monotonic"};
  listing.skipped = {{"zlib:crc32", "needs arguments (data)", "arguments"}};
  EXPECT_EQ(formatScanListing(listing), "zlib:compressobj\ntime:monotonic\n");
  EXPECT_EQ(formatScanListing(ScanListing{}), "");
}

TEST(ScanListing, ExitCode) {
  ScanListing listing;
  EXPECT_EQ(listing.exitCode(), 2);  // nothing to check
  listing.targets = {"m:f"};
  EXPECT_EQ(listing.exitCode(), 0);
  listing.moduleErrors.push_back(samples::targetError());
  EXPECT_EQ(listing.exitCode(), 3);
  listing.interrupted = true;
  EXPECT_EQ(listing.exitCode(), 130);
}

}  // namespace
}  // namespace psleak
