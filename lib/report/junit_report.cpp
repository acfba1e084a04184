#include "report/junit_report.h"

#include <fmt/format.h>

#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

#include "core/version.h"
#include "report/xml_text.h"

namespace psleak {
namespace {

// Seconds as JUnit readers parse them: a plain decimal, never NaN or negative.
std::string seconds(double value) {
  if (!std::isfinite(value) || value < 0) value = 0;
  return fmt::format("{:.3f}", value);
}

std::string moduleOf(std::string_view spec) {
  const std::size_t colon = spec.find(':');
  return std::string(colon == std::string_view::npos ? std::string_view{} : spec.substr(0, colon));
}

std::string className(std::string_view spec) {
  const std::string module = moduleOf(spec);
  return module.empty() ? "psleak" : "psleak." + module;
}

// The testcase name: the target spec (or --expr), with its arguments when it has any, so
// that one target listed twice in a --targets file with other arguments stays two tests.
std::string testName(const Report& report) {
  if (!report.target) return "(no target)";
  const TargetDescription& target = *report.target;
  std::string name = !target.spec.empty()         ? target.spec
                     : !target.expression.empty() ? target.expression
                                                  : "(no target)";
  if (!target.args.empty() || !target.kwargs.empty()) {
    std::vector<std::string> arguments = target.args;
    for (const auto& [key, value] : target.kwargs) arguments.push_back(key + "=" + value);
    name += fmt::format("({})", fmt::join(arguments, ", "));
  }
  return name;
}

std::string specOf(const Report& report) {
  return report.target ? report.target->spec : "";
}

// What `psleak run` prints for the report: the run table, the --trace sites, the findings.
std::string runText(const Report& report, const TextOptions& options) {
  std::string text;
  for (const RunDelta& run : report.runs) text += formatRunLine(run, options) + "\n";
  if (report.trace) text += formatTrace(*report.trace, options.rawBytes);
  text += formatFindings(report.findings);
  return text;
}

std::string failureText(const Report& report, const TextOptions& options) {
  std::string text = runText(report, options);
  if (report.verdict.status == VerdictStatus::Error) {
    // The message and traceback first; then whatever was measured before it failed.
    std::string head = formatVerdictLine(report.verdict) + "\n";
    if (!report.verdict.details.empty()) {
      head += report.verdict.details;
      if (head.back() != '\n') head += '\n';
    }
    text = head + text;
  }
  return text;
}

void appendProperty(std::string& xml, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  xml += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", xmlAttribute(name),
                     xmlAttribute(value));
}

// The suite's properties: psleak's version and what every target ran on (taken from the
// first result that describes it; a scan runs all its targets on one machine and Python).
std::string properties(const ScanReport& scan) {
  std::string xml;
  appendProperty(xml, "psleak.version", kPsleakVersion);
  appendProperty(xml, "psleak.command", scan.command);
  appendProperty(xml, "psleak.modules", fmt::format("{}", fmt::join(scan.modules, " ")));
  // How many callables the scan could not call, whether or not each is a testcase.
  if (!scan.skipped.empty()) {
    appendProperty(xml, "psleak.skipped_callables", fmt::format("{}", scan.skipped.size()));
  }
  for (const Report& report : scan.results) {
    if (!report.platform) continue;
    const PlatformDescription& platform = *report.platform;
    appendProperty(xml, "platform.system", platform.system);
    appendProperty(xml, "platform.release", platform.release);
    appendProperty(xml, "platform.machine", platform.machine);
    appendProperty(xml, "platform.libc", platform.libc);
    break;
  }
  for (const Report& report : scan.results) {
    if (!report.interpreter) continue;
    appendProperty(xml, "python.version", report.interpreter->version);
    appendProperty(xml, "python.executable", report.interpreter->executable);
    appendProperty(xml, "python.allocator", report.interpreter->allocator);
    break;
  }
  for (const Report& report : scan.results) {
    if (!report.settings) continue;
    appendProperty(xml, "settings.warmup", fmt::format("{}", report.settings->warmup));
    appendProperty(xml, "settings.calls", fmt::format("{}", report.settings->calls));
    appendProperty(xml, "settings.retries", fmt::format("{}", report.settings->retries));
    appendProperty(xml, "settings.checks",
                   fmt::format("{}", fmt::join(report.settings->checks, ",")));
    break;
  }
  return xml.empty() ? std::string() : "    <properties>\n" + xml + "    </properties>\n";
}

std::string testcase(const Report& report, const TextOptions& options) {
  const std::string open =
      fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
                  xmlAttribute(className(specOf(report))), xmlAttribute(testName(report)),
                  seconds(report.durationSeconds));
  const Verdict& verdict = report.verdict;
  if (verdict.status == VerdictStatus::Clean) return open + "/>\n";
  const bool leak = verdict.status == VerdictStatus::Leak;
  const std::string element = leak ? "failure" : "error";
  const std::string type = !verdict.kind.empty() ? verdict.kind : (leak ? "leak" : "error");
  return fmt::format("{}>\n      <{} message=\"{}\" type=\"{}\">{}</{}>\n    </testcase>\n", open,
                     element, xmlAttribute(verdict.message), xmlAttribute(type),
                     xmlText(failureText(report, options)), element);
}

std::string skippedTestcase(const SkippedCallable& skipped) {
  return fmt::format(
      "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">\n"
      "      <skipped message=\"{}\"/>\n"
      "    </testcase>\n",
      xmlAttribute(className(skipped.target)), xmlAttribute(skipped.target), seconds(0),
      xmlAttribute(skipped.reason));
}

}  // namespace

std::string toJUnitXml(const ScanReport& scan, const TextOptions& options) {
  int failures = 0;
  int errors = 0;
  double summed = 0;
  for (const Report& report : scan.results) {
    failures += report.verdict.status == VerdictStatus::Leak ? 1 : 0;
    errors += report.verdict.status == VerdictStatus::Error ? 1 : 0;
    summed += std::isfinite(report.durationSeconds) ? report.durationSeconds : 0;
  }
  // The callables a scan could not call are tests only when asked (--junit-skipped): a
  // CI's test view should show what was checked, not dozens of skipped entries.
  const std::size_t skipped = options.listSkipped ? scan.skipped.size() : 0;
  const std::size_t tests = scan.results.size() + skipped;
  // Wall time when the scan measured it (targets may run in parallel), else the sum.
  const std::string time = seconds(scan.durationSeconds > 0 ? scan.durationSeconds : summed);
  const std::string counts =
      fmt::format("tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"", tests,
                  failures, errors, skipped, time);

  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"psleak\" {}>\n", counts);
  xml +=
      fmt::format("  <testsuite name=\"{}\" {}>\n", xmlAttribute("psleak " + scan.command), counts);
  xml += properties(scan);
  for (const Report& report : scan.results) xml += testcase(report, options);
  if (options.listSkipped) {
    for (const SkippedCallable& callable : scan.skipped) xml += skippedTestcase(callable);
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

std::string toJUnitXml(const Report& report, const TextOptions& options) {
  ScanReport scan;
  scan.command = report.command;
  if (report.target) {
    const std::string module = moduleOf(report.target->spec);
    if (!module.empty()) scan.modules.push_back(module);
  }
  scan.results.push_back(report);
  scan.durationSeconds = report.durationSeconds;
  return toJUnitXml(scan, options);
}

}  // namespace psleak
