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
          {"checks", settings.checks},
          {"hooks",
           {{"counting", settings.hooks.counting},
            {"problem",
             settings.hooks.problem.empty() ? json(nullptr) : json(settings.hooks.problem)}}}};
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

// A native frame's name_source, and back.
constexpr std::pair<FrameNaming, const char*> kFrameNamings[] = {
    {FrameNaming::DebugInfo, "debug_info"},
    {FrameNaming::Symbol, "symbol"},
    {FrameNaming::NearestSymbol, "nearest_symbol"},
    {FrameNaming::Unknown, "unknown"},
};

const char* frameNamingName(FrameNaming naming) {
  for (const auto& [value, name] : kFrameNamings) {
    if (value == naming) return name;
  }
  return "unknown";
}

// A call stack's frames; native ones name their shared object and say how their name
// was found, Python ones have neither.
json framesToJson(const std::vector<TraceFrame>& frames, bool native) {
  json list = json::array();
  for (const TraceFrame& frame : frames) {
    json entry = {{"function", frame.function}};
    if (native) entry["object"] = frame.object;
    entry["file"] = frame.file.empty() ? json(nullptr) : json(frame.file);
    entry["line"] = frame.line > 0 ? json(frame.line) : json(nullptr);
    if (native) entry["name_source"] = frameNamingName(frame.naming);
    list.push_back(std::move(entry));
  }
  return list;
}

json toJson(const TraceReport& trace) {
  json sites = json::array();
  for (const TraceSite& site : trace.sites) {
    sites.push_back({{"count", site.count},
                     {"bytes", site.bytes},
                     {"frames", framesToJson(site.frames, true)},
                     {"python_frames", framesToJson(site.pythonFrames, false)}});
  }
  return {{"calls", trace.calls},
          {"seconds", trace.seconds},
          {"unwinder", trace.unwinder},
          {"live_count", trace.liveCount},
          {"live_bytes", trace.liveBytes},
          {"dropped", trace.dropped},
          {"sites", sites}};
}

}  // namespace

std::string jsonText(const json& document, int indent) {
  return document.dump(indent, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

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

namespace {

json skippedToJson(const std::vector<SkippedCallable>& callables) {
  json skipped = json::array();
  for (const SkippedCallable& s : callables) {
    skipped.push_back({{"target", s.target},
                       {"reason", s.reason},
                       {"kind", s.kind.empty() ? json(nullptr) : json(s.kind)}});
  }
  return skipped;
}

}  // namespace

json toJson(const ScanListing& listing) {
  json errors = json::array();
  for (const Report& r : listing.moduleErrors) {
    errors.push_back({{"module", r.target ? r.target->spec : std::string()},
                      {"message", r.verdict.message},
                      {"details", r.verdict.details.empty() ? json(nullptr) : json(r.verdict.details)}});
  }
  return {
      {"schema_version", kJsonSchemaVersion},
      {"psleak_version", kPsleakVersion},
      {"command", "scan"},
      {"list", true},
      {"modules", listing.modules},
      {"targets", listing.targets},
      {"skipped", skippedToJson(listing.skipped)},
      {"errors", errors},
      {"interrupted", listing.interrupted},
      {"exit_code", listing.exitCode()},
  };
}

json toJson(const ScanReport& scan) {
  json results = json::array();
  for (const Report& r : scan.results) results.push_back(toJson(r));
  const json skipped = skippedToJson(scan.skipped);
  json document = {
      {"schema_version", kJsonSchemaVersion},
      {"psleak_version", kPsleakVersion},
      {"command", scan.command},
      {"modules", scan.modules},
      {"summary",
       {{"targets", scan.results.size()},
        {"clean", scan.count(VerdictStatus::Clean)},
        {"leak", scan.count(VerdictStatus::Leak)},
        {"error", scan.count(VerdictStatus::Error)},
        {"skipped", scan.skipped.size()},
        {"interrupted", scan.interrupted}}},
      {"results", results},
      {"skipped", skipped},
      {"exit_code", scan.exitCode()},
      {"duration_seconds", scan.durationSeconds},
  };
  // Only when a report file failed, so that the document is unchanged otherwise.
  if (!scan.outputError.empty()) document["output_error"] = scan.outputError;
  return document;
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
      {"calls_made", report.callsMade ? json(*report.callsMade) : json(nullptr)},
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

namespace psleak {
namespace {

using json = nlohmann::ordered_json;

std::string text(const json& value) { return value.is_null() ? std::string() : value.get<std::string>(); }

MetricValues metricsFromJson(const json& object) {
  MetricValues values;
  for (Metric m : kAllMetrics) {
    const auto it = object.find(std::string(metricName(m)));
    if (it != object.end()) values.set(m, it->get<std::int64_t>());
  }
  return values;
}

VerdictStatus statusFromName(const std::string& name) {
  if (name == "clean") return VerdictStatus::Clean;
  if (name == "leak") return VerdictStatus::Leak;
  return VerdictStatus::Error;
}

Finding findingFromJson(const json& object) {
  Finding finding;
  finding.kind = checkFromName(object.at("check").get<std::string>()).value_or(CheckKind::Memory);
  finding.severity = object.at("severity") == "leak" ? Severity::Leak : Severity::Warning;
  finding.message = object.at("message").get<std::string>();
  finding.items = object.at("items").get<std::vector<std::string>>();
  return finding;
}

FrameNaming frameNamingFromName(const std::string& name) {
  for (const auto& [value, known] : kFrameNamings) {
    if (name == known) return value;
  }
  return FrameNaming::Unknown;
}

// Native frames carry "object" and "name_source"; Python frames have neither (left empty,
// and their names are exact).
std::vector<TraceFrame> framesFromJson(const json& list) {
  std::vector<TraceFrame> frames;
  for (const json& f : list) {
    TraceFrame frame{text(f.at("function")), f.contains("object") ? text(f.at("object")) : "",
                     text(f.at("file")), f.at("line").is_null() ? 0 : f.at("line").get<int>()};
    if (const auto source = f.find("name_source"); source != f.end()) {
      frame.naming = frameNamingFromName(source->get<std::string>());
    } else if (frame.file.empty()) {
      frame.naming = FrameNaming::Symbol;  // a document from before name_source
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

TraceReport traceFromJson(const json& object) {
  TraceReport trace;
  trace.calls = object.at("calls").get<std::int64_t>();
  trace.seconds = object.value("seconds", 0.0);
  trace.unwinder = object.value("unwinder", "");
  trace.liveCount = object.at("live_count").get<std::int64_t>();
  trace.liveBytes = object.at("live_bytes").get<std::int64_t>();
  trace.dropped = object.at("dropped").get<std::int64_t>();
  for (const json& s : object.at("sites")) {
    TraceSite site;
    site.count = s.at("count").get<std::int64_t>();
    site.bytes = s.at("bytes").get<std::int64_t>();
    site.frames = framesFromJson(s.at("frames"));
    site.pythonFrames = framesFromJson(s.value("python_frames", json::array()));
    trace.sites.push_back(std::move(site));
  }
  return trace;
}

}  // namespace

RunDelta runFromJson(const json& run) {
  RunDelta delta;
  delta.run = run.at("run").get<int>();
  delta.calls = run.at("calls").get<std::int64_t>();
  delta.growth = metricsFromJson(run.at("deltas"));
  return delta;
}

Report reportFromJson(const json& document) {
  Report report;
  report.command = document.at("command").get<std::string>();
  if (const json& t = document.at("target"); !t.is_null()) {
    TargetDescription target;
    target.spec = text(t.at("spec"));
    target.expression = text(t.at("expr"));
    target.setup = t.at("setup").get<std::vector<std::string>>();
    target.args = t.at("args").get<std::vector<std::string>>();
    for (const auto& [name, expression] : t.at("kwargs").items()) {
      target.kwargs.emplace_back(name, expression.get<std::string>());
    }
    target.expectException = text(t.at("expect_exception"));
    report.target = target;
  }
  if (const json& i = document.at("interpreter"); !i.is_null()) {
    report.interpreter = InterpreterDescription{text(i.at("version")), text(i.at("executable")),
                                                text(i.at("prefix")), text(i.at("allocator"))};
  }
  if (const json& p = document.at("platform"); !p.is_null()) {
    report.platform = PlatformDescription{text(p.at("system")), text(p.at("release")),
                                          text(p.at("machine")), text(p.at("libc"))};
  }
  if (const json& s = document.at("settings"); !s.is_null()) {
    CheckSettingsDescription settings;
    settings.warmup = s.at("warmup").get<std::int64_t>();
    settings.calls = s.at("calls").get<std::int64_t>();
    settings.retries = s.at("retries").get<int>();
    for (const auto& [name, value] : s.at("tolerance").items()) {
      if (const auto metric = metricFromName(name)) settings.tolerance.set(*metric, value.get<std::int64_t>());
    }
    settings.checks = s.at("checks").get<std::vector<std::string>>();
    if (const auto hooks = s.find("hooks"); hooks != s.end()) {
      settings.hooks = {hooks->at("counting").get<bool>(), text(hooks->at("problem"))};
    }
    report.settings = settings;
  }
  for (const json& run : document.at("runs")) report.runs.push_back(runFromJson(run));
  for (const json& finding : document.at("findings")) report.findings.push_back(findingFromJson(finding));
  if (const json& trace = document.at("trace"); !trace.is_null()) report.trace = traceFromJson(trace);
  const json& v = document.at("verdict");
  report.verdict.status = statusFromName(v.at("status").get<std::string>());
  report.verdict.kind = text(v.at("kind"));
  report.verdict.kinds = v.at("kinds").get<std::vector<std::string>>();
  report.verdict.message = v.at("message").get<std::string>();
  report.verdict.details = text(v.at("details"));
  for (const json& g : v.at("growing")) {
    if (const auto metric = metricFromName(g.at("metric").get<std::string>())) {
      report.verdict.growing.push_back({*metric, g.at("growth").get<std::int64_t>(),
                                        g.at("per_call").get<double>()});
    }
  }
  if (document.contains("calls_made") && document["calls_made"].is_number_integer()) {
    report.callsMade = document["calls_made"].get<std::int64_t>();
  }
  report.durationSeconds = document.at("duration_seconds").get<double>();
  return report;
}

}  // namespace psleak
