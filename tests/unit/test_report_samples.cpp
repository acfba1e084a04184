// Renders the sample reports to JUnit XML and SVG. With PSLEAK_REPORT_SAMPLES_DIR set,
// writes them there for tests/integration/test_report_samples.py, which reads them with
// a real XML parser and renders the SVGs with rsvg-convert.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "report/junit_report.h"
#include "report/svg_plot.h"
#include "report_samples.h"

namespace psleak {
namespace {

TEST(ReportSamples, RenderAndWrite) {
  Report singleRun = samples::clean("leakfix:single");
  singleRun.command = "run";
  singleRun.runs.resize(1);
  Report flat = samples::clean("leakfix:flat");
  for (RunDelta& run : flat.runs) {
    for (Metric m : kAllMetrics) {
      if (run.growth.has(m)) run.growth.set(m, 0);
    }
  }
  const std::vector<std::pair<std::string, std::string>> files = {
      {"scan.junit.xml", toJUnitXml(samples::scan(), TextOptions{false, /*listSkipped=*/true})},
      {"leak.junit.xml", toJUnitXml(samples::memoryLeak())},
      {"crash.junit.xml", toJUnitXml(samples::crash())},
      {"scan.svg", toSvgPlot(samples::scan())},
      {"leak.svg", toSvgPlot(samples::memoryLeak())},
      {"clean.svg", toSvgPlot(samples::clean())},
      {"single-run.svg", toSvgPlot(singleRun)},
      {"flat.svg", toSvgPlot(flat)},
      {"no-runs.svg", toSvgPlot(samples::targetError())},
      {"empty.svg", toSvgPlot(ScanReport{})},
  };
  for (const auto& [name, content] : files) EXPECT_FALSE(content.empty()) << name;

  const char* directory = std::getenv("PSLEAK_REPORT_SAMPLES_DIR");
  if (directory == nullptr || *directory == '\0') return;
  for (const auto& [name, content] : files) {
    const std::string path = std::string(directory) + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out << content;
    out.close();
    EXPECT_TRUE(out.good()) << "could not write " << path;
  }
}

}  // namespace
}  // namespace psleak
