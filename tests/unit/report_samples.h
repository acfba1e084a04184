#pragma once
// Hand-built reports for the renderer tests (JUnit, SVG, JSON, text): a leak, a clean
// target, an fd leak, a crash after some runs, a target error before any run, a scan of
// them all, and a --trace result.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "report/report.h"
#include "report/scan_report.h"
#include "report/trace_report.h"

namespace psleak::samples {

// How many times `needle` occurs in `text`, without overlaps.
inline std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// Characters every renderer must escape, and a control character (0x01) XML 1.0 forbids.
inline const std::string kNastyText = "bad <tag> & \"quoted\" 'single'\x01 end";

inline RunDelta run(int number, std::int64_t calls,
                    std::vector<std::pair<Metric, std::int64_t>> growth) {
  RunDelta delta;
  delta.run = number;
  delta.calls = calls;
  for (const auto& [metric, value] : growth) delta.growth.set(metric, value);
  return delta;
}

inline TargetDescription target(const std::string& spec) {
  TargetDescription description;
  description.spec = spec;
  return description;
}

// Every metric, each run making more calls than the one before, as psleak runs them.
inline std::vector<RunDelta> leakingRuns(int count, std::int64_t bytesPerCall) {
  std::vector<RunDelta> runs;
  for (int i = 1; i <= count; ++i) {
    const std::int64_t calls = 100 * i;
    runs.push_back(run(i, calls,
                       {{Metric::HeapUsed, calls * bytesPerCall},
                        {Metric::MmapUsed, 0},
                        {Metric::HeapTotal, i % 2 == 0 ? 135168 : 0},
                        {Metric::Rss, calls * bytesPerCall + 4096},
                        {Metric::Uss, calls * bytesPerCall},
                        {Metric::Vms, 0},
                        {Metric::Allocs, calls},
                        {Metric::AllocBytes, calls * bytesPerCall}}));
  }
  return runs;
}

inline Report memoryLeak(const std::string& spec = "leakfix:leak_bytes") {
  Report report;
  report.command = "scan";
  report.target = target(spec);
  report.interpreter = InterpreterDescription{"3.11.2", "/usr/bin/python3", "/usr", "pymalloc"};
  report.platform = PlatformDescription{"Linux", "6.1.0-18-amd64", "x86_64", "glibc 2.36"};
  CheckSettingsDescription settings;
  settings.warmup = 10;
  settings.calls = 100;
  settings.retries = 5;
  settings.checks = {"memory", "fd"};
  report.settings = settings;
  report.runs = leakingRuns(5, 1024);
  Assessment assessment;
  assessment.decision = Decision::Leak;
  assessment.runs = 5;
  assessment.growing = {{Metric::HeapUsed, 512000, 1024.0}, {Metric::Allocs, 500, 1.0}};
  report.verdict = memoryLeakVerdict(assessment, false);
  report.findings = {memoryLeakFinding(assessment, false)};
  report.durationSeconds = 0.75;
  return report;
}

inline Report clean(const std::string& spec = "leakfix:no_leak") {
  Report report;
  report.command = "scan";
  report.target = target(spec);
  report.runs = {run(1, 100, {{Metric::HeapUsed, 4096}, {Metric::Uss, 8192}, {Metric::Allocs, 3}}),
                 run(2, 200, {{Metric::HeapUsed, 0}, {Metric::Uss, 0}, {Metric::Allocs, 0}})};
  report.verdict = cleanVerdict(report.runs);
  report.durationSeconds = 0.25;
  return report;
}

inline Report fdLeak(const std::string& spec = "leakfix:leak_fd") {
  Report report = clean(spec);
  report.findings = {{CheckKind::Fd,
                      Severity::Leak,
                      "1 file descriptor left open by one call",
                      {"fd 7 -> /dev/null"}}};
  report.verdict = composeVerdict(std::nullopt, report.runs, report.findings);
  return report;
}

// Died of SIGSEGV in run 3, after two runs were measured; the message carries `nasty`.
inline Report crash(const std::string& spec = "crashfix:segv",
                    const std::string& nasty = kNastyText) {
  Report report;
  report.command = "scan";
  report.target = target(spec);
  report.runs = {run(1, 100, {{Metric::HeapUsed, -2048}, {Metric::Uss, 0}}),
                 run(2, 200, {{Metric::HeapUsed, -4096}, {Metric::Uss, 0}})};
  report.verdict =
      errorVerdict("crash", "the target died of SIGSEGV in run 3: " + nasty,
                   "Fatal Python error: Segmentation fault\n  File \"x.py\", line 1 <here>\n");
  report.durationSeconds = 0.5;
  return report;
}

// Failed to import: no run at all.
inline Report targetError(const std::string& spec = "nosuchmodule:f") {
  Report report;
  report.command = "scan";
  report.target = target(spec);
  report.verdict = errorVerdict(
      "target", "cannot import module 'nosuchmodule'",
      "Traceback (most recent call last):\nModuleNotFoundError: No module named 'nosuchmodule'\n");
  return report;
}

inline ScanReport scan() {
  ScanReport scan;
  scan.command = "scan";
  scan.modules = {"leakfix", "crashfix", "nosuchmodule"};
  scan.results = {memoryLeak(), clean(), fdLeak(), crash(), targetError()};
  scan.skipped = {{"leakfix:Holder", "class", "class"},
                  {"leakfix:leak_n", "needs arguments (n, <size>=0) & more", "arguments"}};
  scan.durationSeconds = 3.5;
  return scan;
}

// A --trace result: one site, 100 blocks a call, two native and two Python frames.
inline TraceReport trace() {
  TraceReport report;
  report.calls = 100;
  report.seconds = 0.25;
  report.unwinder = "libunwind";
  report.liveCount = 100;
  report.liveBytes = 102400;
  TraceSite site;
  site.count = 100;
  site.bytes = 102400;
  site.frames = {{"leak_malloc_1k", "/x/leakfix.so", "leakfix.c", 71, FrameNaming::DebugInfo},
                 {"PyObject_Vectorcall", "/usr/lib/libpython3.11.so.1.0", "", 0, FrameNaming::Symbol}};
  site.pythonFrames = {{"_grow_deeper", "", "/x/leakfix_py.py", 66},
                       {"leak_nested", "", "/x/leakfix_py.py", 71}};
  report.sites.push_back(site);
  return report;
}

}  // namespace psleak::samples
