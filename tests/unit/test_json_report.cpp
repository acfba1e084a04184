// The --json document: every field of schema version 1, read back from its text.

#include "report/json_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/version.h"
#include "report_samples.h"

namespace psleak {
namespace {

using nlohmann::json;

// Renders and parses back, as a consumer of `psleak run --json` would.
json roundTrip(const Report& report) { return json::parse(toJson(report).dump()); }

RunDelta runOf(int run, std::int64_t calls, std::int64_t heap, std::int64_t uss) {
  RunDelta delta;
  delta.run = run;
  delta.calls = calls;
  delta.growth.set(Metric::HeapUsed, heap);
  delta.growth.set(Metric::Uss, uss);
  return delta;
}

Report leakReport() {
  Report report;
  report.command = "run";
  TargetDescription target;
  target.spec = "leakfix:leak_bytes";
  target.args = {"1024"};
  target.kwargs = {{"level", "9"}};
  target.setup = {"import os"};
  report.target = target;
  report.interpreter = InterpreterDescription{"3.11.2", "/usr/bin/python3", "/usr", "pymalloc"};
  report.platform = PlatformDescription{"Linux", "6.1.0", "x86_64", "glibc 2.36"};
  CheckSettingsDescription settings;
  settings.warmup = 10;
  settings.calls = 200;
  settings.retries = 2;
  settings.tolerance = Tolerance(4096);
  settings.tolerance.set(Metric::Rss, 65536);
  settings.checks = {"memory", "fd"};
  report.settings = settings;
  report.runs = {runOf(1, 200, 204800, 0), runOf(2, 300, 307200, 4096)};
  Assessment assessment;
  assessment.decision = Decision::Leak;
  assessment.runs = 2;
  assessment.growing = {{Metric::HeapUsed, 307200, 1024.0}};
  report.verdict = memoryLeakVerdict(assessment, false);
  report.durationSeconds = 1.25;
  return report;
}

TEST(JsonReport, TopLevelFieldsInOrder) {
  const auto document = toJson(leakReport());
  std::vector<std::string> keys;
  for (auto it = document.begin(); it != document.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"schema_version", "psleak_version", "command",
                                            "target", "interpreter", "platform", "settings",
                                            "runs", "findings", "trace", "verdict",
                                            "calls_made", "duration_seconds"}));
}

TEST(JsonReport, DescribesTargetInterpreterPlatform) {
  const json doc = roundTrip(leakReport());
  EXPECT_EQ(doc["schema_version"], kJsonSchemaVersion);
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["psleak_version"], kPsleakVersion);
  EXPECT_EQ(doc["command"], "run");

  EXPECT_EQ(doc["target"]["spec"], "leakfix:leak_bytes");
  EXPECT_TRUE(doc["target"]["expr"].is_null());
  EXPECT_EQ(doc["target"]["args"], json::array({"1024"}));
  EXPECT_EQ(doc["target"]["kwargs"], json({{"level", "9"}}));
  EXPECT_EQ(doc["target"]["setup"], json::array({"import os"}));
  EXPECT_TRUE(doc["target"]["expect_exception"].is_null());

  EXPECT_EQ(doc["interpreter"]["version"], "3.11.2");
  EXPECT_EQ(doc["interpreter"]["executable"], "/usr/bin/python3");
  EXPECT_EQ(doc["interpreter"]["allocator"], "pymalloc");
  EXPECT_EQ(doc["platform"]["system"], "Linux");
  EXPECT_EQ(doc["platform"]["libc"], "glibc 2.36");
  EXPECT_DOUBLE_EQ(doc["duration_seconds"].get<double>(), 1.25);
}

TEST(JsonReport, SettingsHaveToleranceForEveryMetric) {
  const json doc = roundTrip(leakReport());
  const json& settings = doc["settings"];
  EXPECT_EQ(settings["warmup"], 10);
  EXPECT_EQ(settings["calls"], 200);
  EXPECT_EQ(settings["retries"], 2);
  EXPECT_EQ(settings["checks"], json::array({"memory", "fd"}));
  const json& tolerance = settings["tolerance"];
  ASSERT_EQ(tolerance.size(), static_cast<std::size_t>(kMetricCount));
  for (Metric m : kAllMetrics) {
    const std::string name(metricName(m));
    ASSERT_TRUE(tolerance.contains(name)) << name;
    EXPECT_EQ(tolerance[name], m == Metric::Rss ? 65536 : 4096) << name;
  }
}

TEST(JsonReport, RunsHaveCallsDeltasAndPerCall) {
  const json doc = roundTrip(leakReport());
  const json& runs = doc["runs"];
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1]["run"], 2);
  EXPECT_EQ(runs[1]["calls"], 300);
  EXPECT_EQ(runs[1]["deltas"], json({{"heap_used", 307200}, {"uss", 4096}}));
  EXPECT_DOUBLE_EQ(runs[1]["per_call"]["heap_used"].get<double>(), 1024.0);
  EXPECT_DOUBLE_EQ(runs[1]["per_call"]["uss"].get<double>(), 4096.0 / 300.0);
  EXPECT_FALSE(runs[1]["per_call"].contains("mmap_used"));
  EXPECT_DOUBLE_EQ(runs[1]["bytes_per_call"].get<double>(), 1024.0);
  EXPECT_EQ(runs[0]["deltas"]["uss"], 0);
}

TEST(JsonReport, LeakVerdict) {
  const json doc = roundTrip(leakReport());
  const json& verdict = doc["verdict"];
  EXPECT_EQ(verdict["status"], "leak");
  EXPECT_EQ(verdict["kind"], "memory");
  EXPECT_EQ(verdict["kinds"], json::array({"memory"}));
  EXPECT_EQ(verdict["message"], "memory kept increasing after 2 runs (heap +1.0 KiB/call)");
  EXPECT_EQ(verdict["exit_code"], 1);
  EXPECT_TRUE(verdict["details"].is_null());
  ASSERT_EQ(verdict["growing"].size(), 1u);
  EXPECT_EQ(verdict["growing"][0]["metric"], "heap_used");
  EXPECT_EQ(verdict["growing"][0]["growth"], 307200);
  EXPECT_DOUBLE_EQ(verdict["growing"][0]["per_call"].get<double>(), 1024.0);
}

TEST(JsonReport, CleanVerdictHasNoKind) {
  Report report = leakReport();
  report.verdict = cleanVerdict(report.runs);
  const json doc = roundTrip(report);
  EXPECT_EQ(doc["verdict"]["status"], "clean");
  EXPECT_TRUE(doc["verdict"]["kind"].is_null());
  EXPECT_EQ(doc["verdict"]["kinds"], json::array());
  EXPECT_EQ(doc["verdict"]["exit_code"], 0);
  EXPECT_TRUE(doc["verdict"]["growing"].empty());
}

TEST(JsonReport, ErrorReportStillParses) {
  Report report;  // nothing known but the error
  report.verdict = errorVerdict("target", "cannot import module 'nope'",
                                "Traceback (most recent call last):\n  ...\n\"quoted\"\n");
  const std::string text = toJson(report).dump(2);
  const json doc = json::parse(text);
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_TRUE(doc["target"].is_null());
  EXPECT_TRUE(doc["interpreter"].is_null());
  EXPECT_TRUE(doc["platform"].is_null());
  EXPECT_TRUE(doc["settings"].is_null());
  EXPECT_TRUE(doc["runs"].is_array());
  EXPECT_TRUE(doc["runs"].empty());
  EXPECT_EQ(doc["findings"], json::array());
  EXPECT_EQ(doc["verdict"]["status"], "error");
  EXPECT_EQ(doc["verdict"]["kind"], "target");
  EXPECT_EQ(doc["verdict"]["message"], "cannot import module 'nope'");
  EXPECT_EQ(doc["verdict"]["details"],
            "Traceback (most recent call last):\n  ...\n\"quoted\"\n");
  EXPECT_EQ(doc["verdict"]["exit_code"], 3);
}

TEST(JsonReport, FindingsWithCheckSeverityMessageAndItems) {
  Report report = leakReport();
  report.findings = {
      {CheckKind::Fd, Severity::Leak, "1 file descriptor left open by one call",
       {"fd 7 -> /dev/null"}},
      {CheckKind::Thread, Severity::Warning, "1 native thread running before the call ended during it",
       {"thread 42 'worker'"}},
  };
  const json doc = roundTrip(report);
  const json& findings = doc["findings"];
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0]["check"], "fd");
  EXPECT_EQ(findings[0]["severity"], "leak");
  EXPECT_EQ(findings[0]["message"], "1 file descriptor left open by one call");
  EXPECT_EQ(findings[0]["items"], json::array({"fd 7 -> /dev/null"}));
  EXPECT_EQ(findings[1]["check"], "thread");
  EXPECT_EQ(findings[1]["severity"], "warning");
}

TEST(JsonReport, ExpressionTargetHasNullSpec) {
  Report report;
  TargetDescription target;
  target.expression = "json.dumps([1])";
  target.expectException = "ValueError";
  report.target = target;
  report.verdict = errorVerdict("usage", "bad");
  const json doc = roundTrip(report);
  EXPECT_TRUE(doc["target"]["spec"].is_null());
  EXPECT_EQ(doc["target"]["expr"], "json.dumps([1])");
  EXPECT_EQ(doc["target"]["expect_exception"], "ValueError");
  EXPECT_EQ(doc["target"]["kwargs"], json::object());
  EXPECT_EQ(doc["verdict"]["exit_code"], 2);
}

}  // namespace
}  // namespace psleak

namespace psleak {
namespace {

TEST(JsonReport, TraceSitesCarryNativeAndPythonFrames) {
  Report report = leakReport();
  report.trace = samples::trace();
  const json trace = roundTrip(report).at("trace");
  EXPECT_EQ(trace.at("unwinder"), "libunwind");
  const json& site = trace.at("sites").at(0);
  EXPECT_EQ(site.at("frames").at(0).at("function"), "leak_malloc_1k");
  EXPECT_EQ(site.at("frames").at(0).at("line"), 71);
  EXPECT_TRUE(site.at("frames").at(1).at("file").is_null());
  EXPECT_EQ(site.at("frames").at(0).at("name_source"), "debug_info");
  EXPECT_EQ(site.at("frames").at(1).at("name_source"), "symbol");
  EXPECT_EQ(site.at("python_frames"),
            json::parse(R"([{"function": "_grow_deeper", "file": "/x/leakfix_py.py", "line": 66},
                            {"function": "leak_nested", "file": "/x/leakfix_py.py", "line": 71}])"));
}

TEST(JsonReport, TraceReadsBackWhatItWrote) {
  Report report = leakReport();
  report.trace = samples::trace();
  const Report back = reportFromJson(toJson(report));
  ASSERT_TRUE(back.trace.has_value());
  EXPECT_EQ(back.trace->unwinder, "libunwind");
  ASSERT_EQ(back.trace->sites.size(), 1u);
  const TraceSite& site = back.trace->sites[0];
  ASSERT_EQ(site.pythonFrames.size(), 2u);
  EXPECT_EQ(site.pythonFrames[1].function, "leak_nested");
  EXPECT_EQ(site.pythonFrames[1].file, "/x/leakfix_py.py");
  EXPECT_EQ(site.pythonFrames[1].line, 71);
  EXPECT_EQ(site.frames[0].file, "leakfix.c");
  EXPECT_EQ(toJson(back).dump(), toJson(report).dump());
}

TEST(JsonReport, CallsMadeReadsBackAndIsNullWhenNotKnown) {
  Report report = leakReport();
  EXPECT_TRUE(toJson(report).at("calls_made").is_null());
  EXPECT_FALSE(reportFromJson(toJson(report)).callsMade.has_value());
  report.callsMade = 911;
  EXPECT_EQ(toJson(report).at("calls_made"), 911);
  EXPECT_EQ(reportFromJson(toJson(report)).callsMade, std::optional<std::int64_t>(911));
}

// Bytes that are not UTF-8, in every kind of text a report carries: a --targets line, an
// argument, an exception message, a finding's items, a trace's frames, a path.
Report reportWithBadBytes() {
  const std::string bad = "x\xFF\xC3(y\xED\xA0\x80z";
  Report report = leakReport();
  report.target->spec = bad + ":f";
  report.target->args = {bad};
  report.target->kwargs = {{bad, bad}};
  report.interpreter = InterpreterDescription{"3.11.2", "/opt/" + bad + "/python", bad, "malloc"};
  report.findings = {{CheckKind::Gc, Severity::Leak, bad, {bad}}};
  report.trace = samples::trace();
  report.trace->sites[0].frames[0].function = bad;
  report.trace->sites[0].pythonFrames[0].file = bad;
  report.verdict = errorVerdict("target", "raised " + bad, "Traceback\n" + bad);
  return report;
}

TEST(JsonText, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string text = jsonText(toJson(reportWithBadBytes()), 2);  // does not throw
  const json doc = json::parse(text);
  // x, U+FFFD for each bad sequence, then the good text after it.
  const std::string replaced = doc["verdict"]["message"].get<std::string>();
  EXPECT_EQ(replaced.rfind("raised x\xEF\xBF\xBD", 0), 0u) << replaced;
  EXPECT_NE(replaced.find("y"), std::string::npos) << replaced;
  EXPECT_NE(replaced.find("z"), std::string::npos) << replaced;
  EXPECT_EQ(replaced.find("\xFF"), std::string::npos) << replaced;
  for (const std::string& value :
       {doc["target"]["spec"].get<std::string>(), doc["target"]["args"][0].get<std::string>(),
        doc["target"]["kwargs"].begin().key(), doc["interpreter"]["executable"].get<std::string>(),
        doc["findings"][0]["items"][0].get<std::string>(),
        doc["trace"]["sites"][0]["frames"][0]["function"].get<std::string>(),
        doc["trace"]["sites"][0]["python_frames"][0]["file"].get<std::string>(),
        doc["verdict"]["details"].get<std::string>()}) {
    EXPECT_NE(value.find("\xEF\xBF\xBD"), std::string::npos) << value;
  }
}

TEST(JsonText, ValidTextIsWrittenAsItIs) {
  Report report = leakReport();
  report.verdict = errorVerdict("target", "caf\xC3\xA9 \xF0\x9F\x90\x8D \"q\"\n\\");
  const json doc = json::parse(jsonText(toJson(report)));
  EXPECT_EQ(doc["verdict"]["message"], "caf\xC3\xA9 \xF0\x9F\x90\x8D \"q\"\n\\");
  EXPECT_EQ(jsonText(toJson(report), 2), toJson(report).dump(2));
}

TEST(JsonText, AScanOfBadBytesIsWrittenToo) {
  ScanReport scan;
  scan.command = "scan";
  scan.modules = {"mod\xFF"};
  scan.results = {reportWithBadBytes()};
  scan.skipped = {{"mod\xFF:g", "needs arguments (\xFE)", "arguments"}};
  const json doc = json::parse(jsonText(toJson(scan)));
  EXPECT_EQ(doc["modules"][0], "mod\xEF\xBF\xBD");
  EXPECT_EQ(doc["skipped"][0]["reason"], "needs arguments (\xEF\xBF\xBD)");
}

TEST(JsonScan, SkippedCallablesSayTheKindOfReason) {
  const json doc = json::parse(jsonText(toJson(samples::scan())));
  EXPECT_EQ(doc["skipped"], json::parse(R"([
      {"target": "leakfix:Holder", "reason": "class", "kind": "class"},
      {"target": "leakfix:leak_n", "reason": "needs arguments (n, <size>=0) & more", "kind": "arguments"}])"));
  ScanReport unknown;
  unknown.skipped = {{"m:f", "why", ""}};
  EXPECT_TRUE(toJson(unknown)["skipped"][0]["kind"].is_null());
}

TEST(JsonScanListing, TheDocumentOfScanList) {
  ScanListing listing;
  listing.modules = {"zlib", "nosuchmodule"};
  listing.targets = {"zlib:compressobj", "zlib:decompressobj"};
  listing.skipped = {{"zlib:crc32", "needs arguments (data)", "arguments"}};
  Report error = samples::targetError("nosuchmodule");
  listing.moduleErrors = {error};
  const nlohmann::ordered_json ordered = toJson(listing);
  std::vector<std::string> keys;
  for (const auto& item : ordered.items()) keys.push_back(item.key());
  const json doc = json::parse(jsonText(ordered));
  EXPECT_EQ(keys, (std::vector<std::string>{"schema_version", "psleak_version", "command", "list",
                                            "modules", "targets", "skipped", "errors",
                                            "interrupted", "exit_code"}));
  EXPECT_EQ(doc["command"], "scan");
  EXPECT_EQ(doc["list"], true);
  EXPECT_EQ(doc["targets"], json::parse(R"(["zlib:compressobj", "zlib:decompressobj"])"));
  EXPECT_EQ(doc["skipped"][0]["kind"], "arguments");
  EXPECT_EQ(doc["errors"][0]["module"], "nosuchmodule");
  EXPECT_EQ(doc["errors"][0]["message"], error.verdict.message);
  EXPECT_EQ(doc["errors"][0]["details"], error.verdict.details);
  EXPECT_EQ(doc["exit_code"], 3);
  listing.moduleErrors.clear();
  EXPECT_TRUE(toJson(listing)["errors"].empty());
  EXPECT_EQ(toJson(listing)["exit_code"], 0);
}

TEST(JsonReport, SettingsSayWhetherTheHooksCountedAndWhyNot) {
  Report report = leakReport();
  EXPECT_EQ(roundTrip(report)["settings"]["hooks"],
            json::parse(R"({"counting": false, "problem": null})"));
  report.settings->hooks = {true, ""};
  EXPECT_EQ(roundTrip(report)["settings"]["hooks"],
            json::parse(R"({"counting": true, "problem": null})"));
  report.settings->hooks = {false, "the allocation counters do not see malloc"};
  EXPECT_EQ(roundTrip(report)["settings"]["hooks"]["problem"],
            "the allocation counters do not see malloc");
  const Report back = reportFromJson(toJson(report));
  EXPECT_FALSE(back.settings->hooks.counting);
  EXPECT_EQ(back.settings->hooks.problem, "the allocation counters do not see malloc");
  // A document from before the field existed still reads.
  nlohmann::ordered_json older = toJson(report);
  older["settings"].erase("hooks");
  EXPECT_EQ(reportFromJson(older).settings->hooks.problem, "");
}

TEST(JsonReport, FrameNameSourceIsAnAddedFieldThatReadsBack) {
  Report report = leakReport();
  report.trace = samples::trace();
  report.trace->sites[0].frames.push_back(
      {"PyCFunction_GetFlags", "/usr/lib/libpython3.11.so.1.0", "", 0, FrameNaming::NearestSymbol});
  report.trace->sites[0].frames.push_back({"??", "", "", 0, FrameNaming::Unknown});
  const nlohmann::ordered_json document = toJson(report);
  const nlohmann::ordered_json& frames = document.at("trace").at("sites").at(0).at("frames");
  // The fields of before, in their order, then name_source.
  std::vector<std::string> keys;
  for (const auto& item : frames.at(2).items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"function", "object", "file", "line", "name_source"}));
  EXPECT_EQ(frames.at(2).at("function"), "PyCFunction_GetFlags");
  EXPECT_EQ(frames.at(2).at("name_source"), "nearest_symbol");
  EXPECT_EQ(frames.at(3).at("name_source"), "unknown");
  const Report back = reportFromJson(document);
  EXPECT_EQ(back.trace->sites[0].frames[2].naming, FrameNaming::NearestSymbol);
  EXPECT_EQ(back.trace->sites[0].frames[3].naming, FrameNaming::Unknown);
  EXPECT_EQ(toJson(back).dump(), document.dump());

  // A document from before name_source: a frame with file:line came from debug info, one
  // without is shown by its name as it was.
  nlohmann::ordered_json older = document;
  for (auto& frame : older["trace"]["sites"][0]["frames"]) frame.erase("name_source");
  const std::vector<TraceFrame> olderFrames = reportFromJson(older).trace->sites[0].frames;
  EXPECT_EQ(olderFrames[0].naming, FrameNaming::DebugInfo);
  EXPECT_EQ(olderFrames[1].naming, FrameNaming::Symbol);
  EXPECT_TRUE(olderFrames[2].hasExactName());
}

TEST(JsonReport, TraceWithoutPythonFramesReadsBack) {
  // A document written before python_frames existed still reads.
  Report report = leakReport();
  report.trace = samples::trace();
  nlohmann::ordered_json document = toJson(report);
  document["trace"]["sites"][0].erase("python_frames");
  document["trace"].erase("unwinder");
  const Report back = reportFromJson(document);
  ASSERT_TRUE(back.trace.has_value());
  EXPECT_TRUE(back.trace->sites[0].pythonFrames.empty());
  EXPECT_EQ(back.trace->unwinder, "");
}

}  // namespace
}  // namespace psleak
