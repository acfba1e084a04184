// --junit: the document's structure, its counts, one testcase per target and per skipped
// callable, and escaping. A real XML parser reads the same samples in
// tests/integration/test_report_samples.py.

#include "report/junit_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "core/version.h"
#include "report/format.h"
#include "report_samples.h"

namespace psleak {
namespace {

// The value of attribute `name` in the first element `<tag ...>`.
std::string attribute(const std::string& xml, const std::string& tag, const std::string& name) {
  const std::regex element("<" + tag + "\\s[^>]*>");
  std::smatch match;
  if (!std::regex_search(xml, match, element)) return "<no " + tag + ">";
  const std::string text = match.str();
  const std::regex value("\\s" + name + "=\"([^\"]*)\"");
  std::smatch valueMatch;
  if (!std::regex_search(text, valueMatch, value)) return "<no " + name + ">";
  return valueMatch[1];
}

std::vector<std::string> testcaseNames(const std::string& xml) {
  std::vector<std::string> names;
  const std::regex testcase("<testcase classname=\"[^\"]*\" name=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), testcase);
       it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1]);
  }
  return names;
}

TEST(JUnitReport, StartsWithDeclarationAndTestsuites) {
  const std::string xml = toJUnitXml(samples::scan());
  EXPECT_EQ(
      xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"psleak\" ", 0), 0u)
      << xml;
  EXPECT_EQ(samples::count(xml, "<testsuites "), 1u);
  EXPECT_EQ(samples::count(xml, "</testsuites>"), 1u);
  EXPECT_EQ(samples::count(xml, "<testsuite "), 1u);
  EXPECT_EQ(samples::count(xml, "</testsuite>"), 1u);
  EXPECT_EQ(attribute(xml, "testsuite", "name"), "psleak scan");
  EXPECT_EQ(xml.back(), '\n');
}

// --junit-skipped: each callable the scan skipped is a skipped testcase.
const TextOptions kListSkipped{false, true};

TEST(JUnitReport, CountsInBothSuiteElements) {
  const std::string xml = toJUnitXml(samples::scan(), kListSkipped);
  for (const std::string tag : {"testsuites", "testsuite"}) {
    EXPECT_EQ(attribute(xml, tag, "tests"), "7") << tag;     // 5 results + 2 skipped
    EXPECT_EQ(attribute(xml, tag, "failures"), "2") << tag;  // memory leak, fd leak
    EXPECT_EQ(attribute(xml, tag, "errors"), "2") << tag;    // crash, target error
    EXPECT_EQ(attribute(xml, tag, "skipped"), "2") << tag;
    EXPECT_EQ(attribute(xml, tag, "time"), "3.500") << tag;  // the scan's wall time
  }
}

TEST(JUnitReport, TimeIsTheSumWhenTheScanDidNotMeasureIt) {
  ScanReport scan = samples::scan();
  scan.durationSeconds = 0;
  EXPECT_EQ(attribute(toJUnitXml(scan), "testsuites", "time"),
            "1.750");  // .75 + .25 + .25 + .5 + 0
}

TEST(JUnitReport, ByDefaultOnlyTheTargetsCheckedAreTestcases) {
  const std::string xml = toJUnitXml(samples::scan());
  EXPECT_EQ(testcaseNames(xml),
            (std::vector<std::string>{"leakfix:leak_bytes", "leakfix:no_leak", "leakfix:leak_fd",
                                      "crashfix:segv", "nosuchmodule:f"}));
  EXPECT_EQ(samples::count(xml, "<skipped "), 0u);
  for (const std::string tag : {"testsuites", "testsuite"}) {
    EXPECT_EQ(attribute(xml, tag, "tests"), "5") << tag;
    EXPECT_EQ(attribute(xml, tag, "failures"), "2") << tag;
    EXPECT_EQ(attribute(xml, tag, "errors"), "2") << tag;
    EXPECT_EQ(attribute(xml, tag, "skipped"), "0") << tag;
  }
  // How many the scan skipped is still said, as a property.
  EXPECT_NE(xml.find("<property name=\"psleak.skipped_callables\" value=\"2\"/>"),
            std::string::npos)
      << xml;
  EXPECT_NE(toJUnitXml(samples::scan(), kListSkipped)
                .find("<property name=\"psleak.skipped_callables\" value=\"2\"/>"),
            std::string::npos);
}

TEST(JUnitReport, OneTestcasePerResultThenSkipped) {
  const std::string xml = toJUnitXml(samples::scan(), kListSkipped);
  EXPECT_EQ(testcaseNames(xml),
            (std::vector<std::string>{"leakfix:leak_bytes", "leakfix:no_leak", "leakfix:leak_fd",
                                      "crashfix:segv", "nosuchmodule:f", "leakfix:Holder",
                                      "leakfix:leak_n"}));
  EXPECT_EQ(samples::count(xml, "<failure "), 2u);
  EXPECT_EQ(samples::count(xml, "</failure>"), 2u);
  EXPECT_EQ(samples::count(xml, "<error "), 2u);
  EXPECT_EQ(samples::count(xml, "</error>"), 2u);
  EXPECT_EQ(samples::count(xml, "<skipped "), 2u);
  EXPECT_NE(xml.find("<skipped message=\"class\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<skipped message=\"needs arguments (n, &lt;size&gt;=0) &amp; more\"/>"),
            std::string::npos);
}

TEST(JUnitReport, ClassnameIsTheModule) {
  const std::string xml = toJUnitXml(samples::scan());
  EXPECT_NE(
      xml.find(
          "<testcase classname=\"psleak.leakfix\" name=\"leakfix:leak_bytes\" time=\"0.750\">"),
      std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase classname=\"psleak.crashfix\" name=\"crashfix:segv\""),
            std::string::npos);
  EXPECT_NE(
      toJUnitXml(samples::scan(), kListSkipped)
          .find("<testcase classname=\"psleak.leakfix\" name=\"leakfix:Holder\" time=\"0.000\">"),
      std::string::npos);
}

TEST(JUnitReport, CleanTestcaseIsEmpty) {
  const std::string xml = toJUnitXml(samples::scan());
  EXPECT_NE(
      xml.find("<testcase classname=\"psleak.leakfix\" name=\"leakfix:no_leak\" time=\"0.250\"/>"),
      std::string::npos)
      << xml;
}

TEST(JUnitReport, LeakIsAFailureCarryingTheRunTableAndFindings) {
  const Report leak = samples::memoryLeak();
  const std::string xml = toJUnitXml(leak);
  EXPECT_EQ(attribute(xml, "failure", "type"), "memory");
  EXPECT_EQ(attribute(xml, "failure", "message"), leak.verdict.message);
  for (const RunDelta& run : leak.runs) {
    EXPECT_NE(xml.find(formatRunLine(run, {}) + "\n"), std::string::npos) << run.run;
  }
  EXPECT_NE(xml.find(formatFindings(leak.findings)), std::string::npos);
  EXPECT_NE(xml.find("LEAK: memory kept increasing after 5 runs"), std::string::npos);
  // The table in the order psleak run prints it: runs, then findings.
  EXPECT_LT(xml.find("Run # 5:"), xml.find("LEAK: memory"));
}

TEST(JUnitReport, RawBytesReachTheRunTable) {
  const Report leak = samples::memoryLeak();
  const std::string xml = toJUnitXml(leak, TextOptions{true});
  EXPECT_NE(xml.find(formatRunLine(leak.runs[0], TextOptions{true})), std::string::npos);
}

TEST(JUnitReport, ResourceLeakFailureNamesItsKindAndItems) {
  const std::string xml = toJUnitXml(samples::fdLeak());
  EXPECT_EQ(attribute(xml, "failure", "type"), "fd");
  EXPECT_EQ(attribute(xml, "failure", "message"), "1 file descriptor left open by one call");
  EXPECT_NE(xml.find("LEAK: 1 file descriptor left open by one call\n    fd 7 -&gt; /dev/null\n"),
            std::string::npos)
      << xml;
}

TEST(JUnitReport, ErrorCarriesMessageTracebackAndRunsSoFar) {
  const std::string xml = toJUnitXml(samples::crash("crashfix:segv", "boom"));
  EXPECT_EQ(attribute(xml, "error", "type"), "crash");
  EXPECT_EQ(attribute(xml, "error", "message"), "the target died of SIGSEGV in run 3: boom");
  const std::size_t message = xml.find("ERROR: the target died of SIGSEGV in run 3: boom\n");
  const std::size_t traceback = xml.find("Fatal Python error: Segmentation fault\n");
  const std::size_t firstRun = xml.find("Run # 1:");
  ASSERT_NE(message, std::string::npos) << xml;
  ASSERT_NE(traceback, std::string::npos);
  ASSERT_NE(firstRun, std::string::npos);
  EXPECT_LT(message, traceback);
  EXPECT_LT(traceback, firstRun);
  EXPECT_NE(xml.find("line 1 &lt;here&gt;"), std::string::npos);
  EXPECT_EQ(samples::count(xml, "<failure"), 0u);
}

TEST(JUnitReport, EveryErrorKindIsAnError) {
  for (const std::string kind :
       {"usage", "target", "internal", "crash", "timeout", "interrupted"}) {
    Report report = samples::targetError();
    report.verdict = errorVerdict(kind, "it failed");
    const std::string xml = toJUnitXml(report);
    EXPECT_EQ(attribute(xml, "error", "type"), kind);
    EXPECT_EQ(attribute(xml, "testsuites", "errors"), "1");
    EXPECT_EQ(attribute(xml, "testsuites", "failures"), "0");
  }
}

TEST(JUnitReport, EscapesMarkupAndDropsControlCharacters) {
  const std::string xml = toJUnitXml(samples::crash("crashfix:<&\"'>"));
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  EXPECT_EQ(xml.find("<tag>"), std::string::npos);
  EXPECT_EQ(xml.find("\"quoted\""), std::string::npos);
  EXPECT_NE(xml.find("message=\"the target died of SIGSEGV in run 3: bad &lt;tag&gt; &amp; "
                     "&quot;quoted&quot; &apos;single&apos; end\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("name=\"crashfix:&lt;&amp;&quot;&apos;&gt;\""), std::string::npos);
  // In element text too.
  EXPECT_NE(xml.find("ERROR: the target died of SIGSEGV in run 3: bad &lt;tag&gt; &amp; "
                     "&quot;quoted&quot; &apos;single&apos; end\n"),
            std::string::npos);
}

TEST(JUnitReport, NewlinesInAMessageSurviveAsCharacterReferences) {
  Report report = samples::targetError();
  report.verdict = errorVerdict("target", "line one\nline two");
  EXPECT_EQ(attribute(toJUnitXml(report), "error", "message"), "line one&#10;line two");
}

TEST(JUnitReport, PropertiesNameVersionPlatformAndPython) {
  const std::string xml = toJUnitXml(samples::scan());
  EXPECT_NE(
      xml.find(std::string("<property name=\"psleak.version\" value=\"") + kPsleakVersion + "\"/>"),
      std::string::npos);
  EXPECT_NE(xml.find("<property name=\"platform.system\" value=\"Linux\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"platform.libc\" value=\"glibc 2.36\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"python.version\" value=\"3.11.2\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"psleak.modules\" value=\"leakfix crashfix nosuchmodule\"/>"),
            std::string::npos);
  // Properties come before the first testcase, as the JUnit schema orders them.
  EXPECT_LT(xml.find("<properties>"), xml.find("<testcase"));
}

TEST(JUnitReport, SingleReportIsASuiteOfOne) {
  const std::string xml = toJUnitXml(samples::memoryLeak());
  EXPECT_EQ(attribute(xml, "testsuite", "name"), "psleak scan");  // the report's command
  Report run = samples::memoryLeak();
  run.command = "run";
  const std::string runXml = toJUnitXml(run);
  EXPECT_EQ(attribute(runXml, "testsuite", "name"), "psleak run");
  EXPECT_EQ(attribute(runXml, "testsuites", "tests"), "1");
  EXPECT_EQ(attribute(runXml, "testsuites", "failures"), "1");
  EXPECT_EQ(attribute(runXml, "testsuites", "errors"), "0");
  EXPECT_EQ(attribute(runXml, "testsuites", "skipped"), "0");
  EXPECT_EQ(attribute(runXml, "testsuites", "time"), "0.750");
  EXPECT_EQ(samples::count(runXml, "<testcase "), 1u);
}

TEST(JUnitReport, ExpressionAndArgumentsNameTheTestcase) {
  Report report = samples::clean();
  report.target = TargetDescription{};
  report.target->expression = "len([1, 2])";
  std::string xml = toJUnitXml(report);
  EXPECT_NE(xml.find("<testcase classname=\"psleak\" name=\"len([1, 2])\""), std::string::npos)
      << xml;

  report.target = samples::target("zlib:compress");
  report.target->args = {"b'x' * 10"};
  report.target->kwargs = {{"level", "9"}};
  xml = toJUnitXml(report);
  EXPECT_NE(xml.find("name=\"zlib:compress(b&apos;x&apos; * 10, level=9)\""), std::string::npos)
      << xml;

  report.target.reset();
  EXPECT_NE(toJUnitXml(report).find("name=\"(no target)\""), std::string::npos);
}

TEST(JUnitReport, TimesAreNeverNanOrNegative) {
  Report report = samples::clean();
  report.durationSeconds = std::numeric_limits<double>::quiet_NaN();
  std::string xml = toJUnitXml(report);
  EXPECT_EQ(attribute(xml, "testcase", "time"), "0.000");
  EXPECT_EQ(attribute(xml, "testsuites", "time"), "0.000");
  report.durationSeconds = -1;
  EXPECT_EQ(attribute(toJUnitXml(report), "testcase", "time"), "0.000");
}

TEST(JUnitReport, EmptyScan) {
  ScanReport scan;
  const std::string xml = toJUnitXml(scan);
  EXPECT_EQ(attribute(xml, "testsuites", "tests"), "0");
  EXPECT_EQ(samples::count(xml, "<testcase"), 0u);
  EXPECT_NE(xml.find("</testsuite>\n</testsuites>\n"), std::string::npos);
}

}  // namespace
}  // namespace psleak
