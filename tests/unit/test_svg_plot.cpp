// --plot: the SVG's structure, one series per measured metric, the highlight exactly when
// there is a leak, and edge cases (no runs, one run, negative, flat, huge). A real XML
// parser and rsvg-convert read the same samples in tests/integration/test_report_samples.py.

#include "report/svg_plot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "report_samples.h"

namespace psleak {
namespace {

constexpr const char* kHighlight = "#d62728";

double attributeNumber(const std::string& svg, const std::string& name) {
  std::smatch match;
  const std::regex value("\\s" + name + "=\"([-0-9.]+)\"");
  if (!std::regex_search(svg, match, value)) return -1;
  return std::stod(match[1]);
}

// Every number in every coordinate attribute; fails the test on one that is not a number.
std::vector<double> coordinates(const std::string& svg) {
  static const std::vector<std::string> kNames = {"x",  "y",  "x1", "y1",    "x2",     "y2",
                                                  "cx", "cy", "r",  "width", "height", "points"};
  std::vector<double> values;
  for (std::size_t eq = svg.find("=\""); eq != std::string::npos; eq = svg.find("=\"", eq + 2)) {
    const std::size_t nameStart = svg.rfind(' ', eq) + 1;
    const std::string name = svg.substr(nameStart, eq - nameStart);
    if (std::find(kNames.begin(), kNames.end(), name) == kNames.end()) continue;
    const std::size_t end = svg.find('"', eq + 2);
    std::string text = svg.substr(eq + 2, end - eq - 2);
    for (char& c : text) c = c == ',' ? ' ' : c;
    std::istringstream in(text);
    std::string token;
    while (in >> token) {
      char* rest = nullptr;
      const double value = std::strtod(token.c_str(), &rest);
      if (*rest != '\0' || !std::isfinite(value)) {
        ADD_FAILURE() << "not a finite number: " << name << "=\"" << text << "\"";
        continue;
      }
      values.push_back(value);
    }
  }
  return values;
}

void expectFiniteAndInside(const std::string& svg) {
  const std::regex badNumber("\\b(nan|inf|infinity)\\b", std::regex::icase);
  EXPECT_FALSE(std::regex_search(svg, badNumber));
  const double width = attributeNumber(svg, "width");
  const double height = attributeNumber(svg, "height");
  ASSERT_GT(width, 0);
  ASSERT_GT(height, 0);
  for (double value : coordinates(svg)) {
    EXPECT_GE(value, 0) << svg;
    EXPECT_LE(value, std::max(width, height));
  }
}

std::string polylinePoints(const std::string& svg, std::size_t index) {
  const std::regex polyline("<polyline points=\"([^\"]*)\"");
  auto it = std::sregex_iterator(svg.begin(), svg.end(), polyline);
  for (std::size_t i = 0; i < index && it != std::sregex_iterator(); ++i) ++it;
  return it == std::sregex_iterator() ? "" : (*it)[1].str();
}

TEST(SvgPlot, IsAStandaloneSvgDocument) {
  const std::string svg = toSvgPlot(samples::scan());
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("viewBox=\"0 0 "), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // Self-contained: nothing to run or fetch.
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos);
  EXPECT_EQ(svg.find("url("), std::string::npos);
  EXPECT_EQ(svg.find("@import"), std::string::npos);
  EXPECT_EQ(svg.find("@font-face"), std::string::npos);
}

TEST(SvgPlot, OnePolylinePerMetricWithData) {
  EXPECT_EQ(samples::count(toSvgPlot(samples::memoryLeak()), "<polyline "), 8u);  // every metric
  const std::string clean = toSvgPlot(samples::clean());                 // heap_used, uss, allocs
  EXPECT_EQ(samples::count(clean, "<polyline "), 3u);
  EXPECT_NE(clean.find(">heap_used<"), std::string::npos);
  EXPECT_NE(clean.find(">uss<"), std::string::npos);
  EXPECT_NE(clean.find(">allocs<"), std::string::npos);
  EXPECT_EQ(clean.find(">rss<"), std::string::npos);
  EXPECT_EQ(clean.find(">mmap_used<"), std::string::npos);
  // The scan: 8 (leak) + 3 (fd leak) + 2 (crash: heap_used, uss) + 0 (no runs); the clean
  // target is folded into the row of clean targets, without panels.
  EXPECT_EQ(samples::count(toSvgPlot(samples::scan()), "<polyline "), 13u);
}

// Many clean targets: one compact row naming them; leaking and failing targets in full.
ScanReport manyCleanTargets(std::size_t clean) {
  ScanReport scan;
  scan.command = "scan";
  scan.modules = {"zlib", "time", "math", "binascii"};
  for (std::size_t i = 0; i < clean; ++i) {
    scan.results.push_back(samples::clean("zlib:clean_function_" + std::to_string(i)));
  }
  return scan;
}

TEST(SvgPlot, CleanTargetsOfAScanAreOneCompactRow) {
  const std::string svg = toSvgPlot(manyCleanTargets(14));
  EXPECT_EQ(samples::count(svg, "<polyline "), 0u);
  EXPECT_NE(svg.find(">14 clean targets (no leak; runs not plotted)<"), std::string::npos) << svg;
  for (int i = 0; i < 14; ++i) {
    EXPECT_NE(svg.find("zlib:clean_function_" + std::to_string(i) + (i < 13 ? "," : "<")),
              std::string::npos)
        << i;
  }
  // A few lines of text, not fourteen sections of panels.
  EXPECT_LT(attributeNumber(svg, "height"), 250);
  EXPECT_EQ(svg.find(kHighlight), std::string::npos);
  expectFiniteAndInside(svg);
}

TEST(SvgPlot, LeaksAndFailuresStayInFullNextToTheCleanRow) {
  ScanReport scan = manyCleanTargets(3);
  scan.results.push_back(samples::memoryLeak());
  scan.results.push_back(samples::crash());
  const std::string svg = toSvgPlot(scan);
  EXPECT_NE(svg.find(">3 clean targets (no leak; runs not plotted)<"), std::string::npos);
  EXPECT_EQ(samples::count(svg, "<polyline "), 8u + 2u);
  EXPECT_NE(svg.find(">leakfix:leak_bytes<"), std::string::npos);
  EXPECT_NE(svg.find(">crashfix:segv<"), std::string::npos);
  EXPECT_NE(svg.find(kHighlight), std::string::npos);
  // The row comes first, then the sections.
  EXPECT_LT(svg.find("clean targets"), svg.find(">leakfix:leak_bytes<"));
  expectFiniteAndInside(svg);
}

TEST(SvgPlot, ManyCleanTargetsAreCutWithACount) {
  const std::string svg = toSvgPlot(manyCleanTargets(1000));
  EXPECT_NE(svg.find(">1000 clean targets"), std::string::npos);
  const std::regex more("\xE2\x80\xA6 and ([0-9]+) more \\(the --json report lists every result\\)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(svg, match, more)) << svg.substr(0, 3000);
  const std::size_t shown = samples::count(svg, "zlib:clean_function_");
  EXPECT_EQ(shown + std::stoul(match[1]), 1000u);
  EXPECT_LT(attributeNumber(svg, "height"), 400);
  expectFiniteAndInside(svg);
}

TEST(SvgPlot, OneRunIsDrawnInFullEvenWhenClean) {
  // `psleak run --plot`: the one target's panels, whatever its verdict.
  const std::string svg = toSvgPlot(samples::clean());
  EXPECT_EQ(samples::count(svg, "<polyline "), 3u);
  EXPECT_EQ(svg.find("clean targets"), std::string::npos);
}

TEST(SvgPlot, OneMarkerPerRun) {
  // Each metric's series: the origin, then one point per run.
  const std::string svg = toSvgPlot(samples::clean());
  EXPECT_EQ(samples::count(svg, "<circle "), 3u * 2u + 1u);  // + the legend's
  EXPECT_EQ(samples::count(polylinePoints(svg, 0), ","), 3u);
}

TEST(SvgPlot, HighlightExactlyWhenThereIsALeak) {
  EXPECT_NE(toSvgPlot(samples::memoryLeak()).find(kHighlight), std::string::npos);
  EXPECT_NE(toSvgPlot(samples::fdLeak()).find(kHighlight), std::string::npos);
  EXPECT_NE(toSvgPlot(samples::scan()).find(kHighlight), std::string::npos);
  EXPECT_EQ(toSvgPlot(samples::clean()).find(kHighlight), std::string::npos);
  EXPECT_EQ(toSvgPlot(samples::crash()).find(kHighlight), std::string::npos);
  EXPECT_EQ(toSvgPlot(samples::targetError()).find(kHighlight), std::string::npos);
  ScanReport noLeak = samples::scan();
  noLeak.results = {samples::clean(), samples::crash(), samples::targetError()};
  EXPECT_EQ(toSvgPlot(noLeak).find(kHighlight), std::string::npos);
}

TEST(SvgPlot, HighlightsOnlyTheMetricsThatKeptGrowing) {
  const std::string svg = toSvgPlot(samples::memoryLeak());  // growing: heap_used, allocs
  EXPECT_EQ(samples::count(svg, std::string("<polyline ")), 8u);
  EXPECT_EQ(
      samples::count(svg, std::string("stroke=\"") + kHighlight + "\" stroke-width=\"2\" stroke-linejoin"),
      2u);
  // Five runs each: their markers in red.
  EXPECT_EQ(samples::count(svg, std::string("r=\"3\" fill=\"") + kHighlight + "\""), 10u);
  // An fd leak grows no memory metric: its verdict line and the legend are red, no series.
  const std::string fd = toSvgPlot(samples::fdLeak());
  EXPECT_EQ(
      samples::count(fd, std::string("stroke=\"") + kHighlight + "\" stroke-width=\"2\" stroke-linejoin"),
      0u);
  EXPECT_EQ(samples::count(fd, std::string("r=\"3\" fill=\"") + kHighlight + "\""), 0u);
  EXPECT_EQ(samples::count(fd, std::string("fill=\"") + kHighlight + "\">LEAK: 1 file descriptor"), 1u);
}

TEST(SvgPlot, TitlesNameTargetAndVerdict) {
  const Report leak = samples::memoryLeak();
  const std::string svg = toSvgPlot(leak);
  EXPECT_NE(svg.find(">leakfix:leak_bytes<"), std::string::npos);
  EXPECT_NE(svg.find(">LEAK: memory kept increasing after 5 runs"), std::string::npos);
  EXPECT_NE(toSvgPlot(samples::clean()).find(">OK: no leak"), std::string::npos);
  EXPECT_NE(toSvgPlot(samples::targetError()).find(">ERROR: cannot import module"),
            std::string::npos);
}

TEST(SvgPlot, TickLabelsInHumanUnits) {
  // heap_used reaches 500 calls * 1 KiB in total... summed: 1500 calls, 1.5 MiB.
  const std::string svg = toSvgPlot(samples::memoryLeak());
  EXPECT_NE(svg.find(">1 MiB<"), std::string::npos) << svg;
  EXPECT_NE(svg.find(">0 B<"), std::string::npos);
  EXPECT_NE(svg.find(">+1.5 MiB<"), std::string::npos);  // the panel's total
  // allocs as counts, calls as counts.
  EXPECT_NE(svg.find(">1000<"), std::string::npos);
  EXPECT_NE(svg.find(">+1500<"), std::string::npos);
  EXPECT_NE(svg.find(">calls<"), std::string::npos);
}

TEST(SvgPlot, NoRunsGivesAPanelSayingSo) {
  const std::string svg = toSvgPlot(samples::targetError());
  EXPECT_NE(svg.find(">no runs<"), std::string::npos);
  EXPECT_NE(svg.find(">failed before run 1 (target)<"), std::string::npos);
  EXPECT_EQ(samples::count(svg, "<polyline "), 0u);
  expectFiniteAndInside(svg);
}

TEST(SvgPlot, SingleRun) {
  Report report = samples::clean();
  report.runs.resize(1);
  const std::string svg = toSvgPlot(report);
  EXPECT_EQ(samples::count(svg, "<polyline "), 3u);
  EXPECT_EQ(samples::count(polylinePoints(svg, 0), ","), 2u);  // origin + run 1
  expectFiniteAndInside(svg);
}

TEST(SvgPlot, NegativeGrowthGetsNegativeTicks) {
  const std::string svg = toSvgPlot(samples::crash());  // heap -2 KiB, then -4 KiB more
  EXPECT_NE(svg.find(">-6 KiB<"), std::string::npos) << svg;
  EXPECT_NE(svg.find(">-6.0 KiB<"), std::string::npos);  // the total
  expectFiniteAndInside(svg);
}

TEST(SvgPlot, AllZeroSeriesIsAFlatLine) {
  Report report = samples::clean();
  for (RunDelta& run : report.runs) {
    run.growth = MetricValues();
    run.growth.set(Metric::Rss, 0);
  }
  const std::string svg = toSvgPlot(report);
  EXPECT_EQ(samples::count(svg, "<polyline "), 1u);
  const std::string points = polylinePoints(svg, 0);
  const std::regex point("[-0-9.]+,([-0-9.]+)");
  std::vector<std::string> ys;
  for (auto it = std::sregex_iterator(points.begin(), points.end(), point);
       it != std::sregex_iterator(); ++it) {
    ys.push_back((*it)[1]);
  }
  ASSERT_EQ(ys.size(), 3u);
  EXPECT_EQ(ys[0], ys[1]);
  EXPECT_EQ(ys[1], ys[2]);
  expectFiniteAndInside(svg);
}

TEST(SvgPlot, RunsWithoutCallsStayFinite) {
  Report report = samples::clean();
  for (RunDelta& run : report.runs) run.calls = 0;
  expectFiniteAndInside(toSvgPlot(report));
}

TEST(SvgPlot, HugeValuesStayFinite) {
  Report report = samples::memoryLeak();
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max() / 2;
  for (RunDelta& run : report.runs) {
    run.calls = huge;  // sums past int64 in the plot
    run.growth.set(Metric::HeapUsed, huge);
    run.growth.set(Metric::Allocs, -huge);
    run.growth.set(Metric::Uss, std::numeric_limits<std::int64_t>::min());
  }
  const std::string svg = toSvgPlot(report);
  EXPECT_EQ(samples::count(svg, "<polyline "), 8u);
  expectFiniteAndInside(svg);
}

TEST(SvgPlot, EveryEdgeCaseStaysFiniteAndInside) {
  expectFiniteAndInside(toSvgPlot(samples::scan()));
  expectFiniteAndInside(toSvgPlot(samples::memoryLeak()));
  expectFiniteAndInside(toSvgPlot(samples::clean()));
  expectFiniteAndInside(toSvgPlot(ScanReport{}));
}

TEST(SvgPlot, EscapesTextAndDropsControlCharacters) {
  const std::string svg = toSvgPlot(samples::crash("crashfix:<&\"'>"));
  EXPECT_EQ(svg.find('\x01'), std::string::npos);
  EXPECT_EQ(svg.find("<tag>"), std::string::npos);
  EXPECT_NE(svg.find(">crashfix:&lt;&amp;&quot;&apos;&gt;<"), std::string::npos) << svg;
  EXPECT_NE(svg.find("bad &lt;tag&gt; &amp; &quot;quoted&quot; &apos;single&apos; end"),
            std::string::npos);
}

TEST(SvgPlot, LongTitlesAreCut) {
  Report report = samples::targetError();
  report.verdict = errorVerdict("target", std::string(1000, 'x'));
  const std::string svg = toSvgPlot(report);
  EXPECT_EQ(svg.find(std::string(200, 'x')), std::string::npos);
  EXPECT_NE(svg.find("x\xE2\x80\xA6<"), std::string::npos);
}

TEST(SvgPlot, EmptyScanSaysSo) {
  const std::string svg = toSvgPlot(ScanReport{});
  EXPECT_NE(svg.find(">no targets were checked<"), std::string::npos);
  EXPECT_EQ(samples::count(svg, "<polyline "), 0u);
}

}  // namespace
}  // namespace psleak
