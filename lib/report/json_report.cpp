#include "report/json_report.h"

#include "core/version.h"
#include "report/format.h"

namespace psleak {
namespace {

using json = nlohmann::ordered_json;

const char* statusName(VerdictStatus status) {
  switch (status) {
    case VerdictStatus::Clean:
      return "clean";
    case VerdictStatus::Leak:
      return "leak";
    case VerdictStatus::Error:
      break;
  }
  return "error";
}

json metricObject(const MetricValues& values) {
  json object = json::object();
  for (Metric m : kAllMetrics) {
    if (values.has(m)) object[std::string(metricName(m))] = values.get(m);
  }
  return object;
}

json toJson(const TargetDescription& target) {
  json kwargs = json::object();
  for (const auto& [name, expression] : target.kwargs) kwargs[name] = expression;
  return {
      {"spec", target.spec.empty() ? json(nullptr) : json(target.spec)},
      {"expr", target.expression.empty() ? json(nullptr) : json(target.expression)},
      {"setup", target.setup},
      {"args", target.args},
      {"kwargs", kwargs},
      {"expect_exception",
       target.expectException.empty() ? json(nullptr) : json(target.expectException)},
  };
}

json toJson(const CheckSettingsDescription& settings) {
  json tolerance = json::object();
  for (Metric m : kAllMetrics) tolerance[std::string(metricName(m))] = settings.tolerance.get(m);
  return {{"warmup", settings.warmup},
          {"calls", settings.calls},
          {"retries", settings.retries},
          {"tolerance", tolerance},
          {"checks", settings.checks}};
}

json toJson(const Verdict& verdict) {
  json growing = json::array();
  for (const MetricGrowth& g : verdict.growing) {
    growing.push_back(
        {{"metric", metricName(g.metric)}, {"growth", g.growth}, {"per_call", g.perCall}});
  }
  return {
      {"status", statusName(verdict.status)},
      {"kind", verdict.kind.empty() ? json(nullptr) : json(verdict.kind)},
      {"kinds", verdict.kinds},
      {"message", verdict.message},
      {"details", verdict.details.empty() ? json(nullptr) : json(verdict.details)},
      {"growing", growing},
      {"exit_code", static_cast<int>(verdict.exitCode())},
  };
}

json toJson(const Finding& finding) {
  return {{"check", checkName(finding.kind)},
          {"severity", finding.severity == Severity::Leak ? "leak" : "warning"},
          {"message", finding.message},
          {"items", finding.items}};
}

json toJson(const TraceReport& trace) {
  json sites = json::array();
  for (const TraceSite& site : trace.sites) {
    json frames = json::array();
    for (const TraceFrame& frame : site.frames) {
      frames.push_back({{"function", frame.function},
                        {"object", frame.object},
                        {"file", frame.file.empty() ? json(nullptr) : json(frame.file)},
                        {"line", frame.line > 0 ? json(frame.line) : json(nullptr)}});
    }
    sites.push_back({{"count", site.count}, {"bytes", site.bytes}, {"frames", frames}});
  }
  return {{"calls", trace.calls},
          {"seconds", trace.seconds},
          {"live_count", trace.liveCount},
          {"live_bytes", trace.liveBytes},
          {"dropped", trace.dropped},
          {"sites", sites}};
}

}  // namespace

json toJson(const RunDelta& run) {
  json perCall = json::object();
  for (Metric m : kAllMetrics) {
    if (run.growth.has(m)) perCall[std::string(metricName(m))] = run.perCall(m);
  }
  return {{"run", run.run},
          {"calls", run.calls},
          {"deltas", metricObject(run.growth)},
          {"per_call", perCall},
          {"bytes_per_call", bytesPerCall(run)}};
}

json toJson(const Report& report) {
  json runs = json::array();
  for (const RunDelta& run : report.runs) runs.push_back(toJson(run));
  json findings = json::array();
  for (const Finding& finding : report.findings) findings.push_back(toJson(finding));
  json document = {
      {"schema_version", kJsonSchemaVersion},
      {"psleak_version", kPsleakVersion},
      {"command", report.command},
      {"target", report.target ? toJson(*report.target) : json(nullptr)},
      {"interpreter", nullptr},
      {"platform", nullptr},
      {"settings", report.settings ? toJson(*report.settings) : json(nullptr)},
      {"runs", runs},
      {"findings", findings},
      {"trace", report.trace ? toJson(*report.trace) : json(nullptr)},
      {"verdict", toJson(report.verdict)},
      {"duration_seconds", report.durationSeconds},
  };
  if (report.interpreter) {
    document["interpreter"] = {{"version", report.interpreter->version},
                               {"executable", report.interpreter->executable},
                               {"prefix", report.interpreter->prefix},
                               {"allocator", report.interpreter->allocator}};
  }
  if (report.platform) {
    document["platform"] = {{"system", report.platform->system},
                            {"release", report.platform->release},
                            {"machine", report.platform->machine},
                            {"libc", report.platform->libc}};
  }
  return document;
}

}  // namespace psleak
