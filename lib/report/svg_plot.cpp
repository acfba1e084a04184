#include "report/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <vector>

#include "report/format.h"
#include "report/xml_text.h"

namespace psleak {
namespace {

// The panels' order: the allocator's view first, then the kernel's, then psleak's counters.
constexpr std::array<Metric, kMetricCount> kPlotOrder = {
    Metric::HeapUsed, Metric::MmapUsed,  Metric::Uss,    Metric::Rss,
    Metric::Vms,      Metric::HeapTotal, Metric::Allocs, Metric::AllocBytes};

// Colours. kHighlight marks leaks and nothing else (the tests rely on it).
constexpr std::string_view kHighlight = "#d62728";
constexpr std::string_view kNeutral = "#4c6a92";
constexpr std::string_view kCleanColour = "#2b7a2b";
constexpr std::string_view kErrorColour = "#a85a00";
constexpr std::string_view kInk = "#222222";
constexpr std::string_view kMuted = "#666666";
constexpr std::string_view kGrid = "#e6e6e6";
constexpr std::string_view kFrame = "#c8ced6";
constexpr std::string_view kFont = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

// Layout, in pixels.
constexpr int kColumns = 4;
constexpr double kMargin = 16;
constexpr double kGap = 12;
constexpr double kPanelWidth = 250;
constexpr double kPanelHeight = 170;
constexpr double kPlotLeft = 66;  // room for the y tick labels
constexpr double kPlotRight = 14;
constexpr double kPlotTop = 26;     // the panel's title
constexpr double kPlotBottom = 30;  // x tick labels and "calls"
constexpr double kHeaderHeight = 74;
constexpr double kHeaderWithoutLegendHeight = 54;  // nothing plotted: no legend
constexpr double kSectionTitleHeight = 44;
constexpr double kWidth = 2 * kMargin + kColumns * kPanelWidth + (kColumns - 1) * kGap;
// Characters of 11-12 px text that fit across the plot (DejaVu Sans averages ~0.6 em).
constexpr std::size_t kLineChars = static_cast<std::size_t>((kWidth - 2 * kMargin) / 7.2);

// A coordinate or size, never NaN or infinite whatever the data.
std::string num(double value) {
  if (!std::isfinite(value)) value = 0;
  std::string text = fmt::format("{:.1f}", value);
  if (text == "-0.0") text = "0.0";
  return text;
}

// "1.0 MiB" -> "1 MiB": tick labels sit on round values.
std::string dropPointZero(std::string text) {
  const std::size_t pos = text.find(".0 ");
  if (pos != std::string::npos) text.erase(pos, 2);
  return text;
}

// A block count in a few characters: "950", "12k", "1.5M".
std::string formatCount(double value) {
  const char* sign = value < 0 ? "-" : "";
  const double magnitude = std::fabs(value);
  static constexpr std::array<std::pair<double, const char*>, 4> kScales = {
      {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e4, "k"}}};
  for (const auto& [scale, suffix] : kScales) {
    if (magnitude >= scale) {
      const double scaled = scale == 1e4 ? magnitude / 1e3 : magnitude / scale;
      std::string digits = fmt::format("{:.1f}", scaled);
      if (digits.size() > 2 && digits.compare(digits.size() - 2, 2, ".0") == 0)
        digits.resize(digits.size() - 2);
      return fmt::format("{}{}{}", sign, digits, suffix);
    }
  }
  return fmt::format("{}{}", sign, static_cast<long long>(std::llround(magnitude)));
}

std::string tickLabel(Metric m, double value) {
  if (isCountMetric(m)) return formatCount(value);
  return dropPointZero(formatBytes(value, false, false));
}

// An axis from lo to hi (both include 0) in round steps: 1, 2 or 5 times a power of ten
// of the display unit (bytes in KiB, MiB, ... steps; counts and calls in whole numbers).
struct Axis {
  double lo = 0;
  double hi = 1;
  double step = 1;
  bool flat = false;  // all values 0: 0 in the middle, the only tick

  std::vector<double> ticks() const {
    if (flat) return {0.0};
    std::vector<double> values;
    for (int i = 0; i <= 20; ++i) {
      const double value = lo + i * step;
      if (value > hi + step * 1e-6) break;
      values.push_back(value);
    }
    return values;
  }
  // Where `value` falls between lo (0) and hi (1).
  double fraction(double value) const { return (value - lo) / (hi - lo); }
};

double niceStep(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  const double nice = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10;
  return nice * magnitude;
}

Axis makeAxis(double lo, double hi, bool bytes, int intervals) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  const double span = hi - lo;
  Axis axis;
  if (!(span > 0) || !std::isfinite(span)) {
    axis.lo = -1;
    axis.hi = 1;
    axis.flat = true;
    return axis;
  }
  double unit = 1;
  if (bytes) {
    while (span / unit >= 1024 && unit < 1024.0 * 1024 * 1024 * 1024) unit *= 1024;
  }
  axis.step = niceStep(span / unit / intervals) * unit;
  axis.step = std::max(axis.step, 1.0);  // bytes, blocks and calls are whole
  axis.lo = std::floor(lo / axis.step) * axis.step;
  axis.hi = std::ceil(hi / axis.step) * axis.step;
  if (!(axis.hi > axis.lo)) axis.hi = axis.lo + axis.step;
  return axis;
}

struct Point {
  int run = 0;
  double calls = 0;   // cumulative, at the end of the run
  double growth = 0;  // cumulative
};

std::vector<Point> seriesOf(const std::vector<RunDelta>& runs, Metric m) {
  std::vector<Point> points;
  double calls = 0;
  double growth = 0;
  for (const RunDelta& run : runs) {
    calls += static_cast<double>(run.calls);
    if (!run.growth.has(m)) continue;
    growth += static_cast<double>(run.growth.get(m));
    points.push_back({run.run, calls, growth});
  }
  return points;
}

std::string targetTitle(const Report& report) {
  if (report.target) {
    std::string title =
        !report.target->spec.empty() ? report.target->spec : report.target->expression;
    if (!report.target->args.empty() || !report.target->kwargs.empty()) {
      std::vector<std::string> arguments = report.target->args;
      for (const auto& [key, value] : report.target->kwargs) arguments.push_back(key + "=" + value);
      title += fmt::format("({})", fmt::join(arguments, ", "));
    }
    if (!title.empty()) return title;
  }
  return "(no target)";
}

std::string_view verdictColour(const Verdict& verdict) {
  switch (verdict.status) {
    case VerdictStatus::Clean:
      return kCleanColour;
    case VerdictStatus::Leak:
      return kHighlight;
    case VerdictStatus::Error:
      break;
  }
  return kErrorColour;
}

bool isGrowing(const Verdict& verdict, Metric m) {
  if (verdict.status != VerdictStatus::Leak) return false;
  return std::any_of(verdict.growing.begin(), verdict.growing.end(),
                     [m](const MetricGrowth& g) { return g.metric == m; });
}

std::string text(double x, double y, std::string_view content, std::string_view attributes) {
  return fmt::format("<text x=\"{}\" y=\"{}\" {}>{}</text>\n", num(x), num(y), attributes,
                     xmlText(content));
}

std::string panelFrame(double x, double y, std::string_view stroke) {
  return fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"#ffffff\" "
      "stroke=\"{}\" stroke-width=\"1\"/>\n",
      num(x), num(y), num(kPanelWidth), num(kPanelHeight), stroke);
}

std::string noRunsPanel(double x, double y, const Verdict& verdict) {
  std::string svg = panelFrame(x, y, kFrame);
  svg +=
      text(x + kPanelWidth / 2, y + kPanelHeight / 2 - 4, "no runs",
           fmt::format("font-size=\"14\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"{}\"",
                       kMuted));
  const std::string why = verdict.status == VerdictStatus::Error && !verdict.kind.empty()
                              ? fmt::format("failed before run 1 ({})", verdict.kind)
                              : std::string("nothing was measured");
  svg += text(x + kPanelWidth / 2, y + kPanelHeight / 2 + 14, truncateText(why, 36),
              fmt::format("font-size=\"10\" text-anchor=\"middle\" fill=\"{}\"", kMuted));
  return svg;
}

std::string metricPanel(double x, double y, Metric m, const std::vector<Point>& points,
                        bool highlighted) {
  const std::string_view colour = highlighted ? kHighlight : kNeutral;
  std::string svg = fmt::format("<g>\n<title>{}</title>\n", xmlText(metricName(m)));
  svg += panelFrame(x, y, highlighted ? kHighlight : kFrame);

  // Title: the metric, and its total growth over all runs.
  svg += text(x + 8, y + 16, metricName(m),
              fmt::format("font-size=\"11\" font-weight=\"bold\" fill=\"{}\"", kInk));
  svg += text(x + kPanelWidth - 8, y + 16, formatMetric(m, points.back().growth, false),
              fmt::format("font-size=\"11\" text-anchor=\"end\" fill=\"{}\"", colour));

  double minGrowth = 0, maxGrowth = 0;
  for (const Point& p : points) {
    minGrowth = std::min(minGrowth, p.growth);
    maxGrowth = std::max(maxGrowth, p.growth);
  }
  const Axis yAxis = makeAxis(minGrowth, maxGrowth, !isCountMetric(m), 4);
  const Axis xAxis = makeAxis(0, points.back().calls, false, 4);

  const double left = x + kPlotLeft;
  const double top = y + kPlotTop;
  const double width = kPanelWidth - kPlotLeft - kPlotRight;
  const double height = kPanelHeight - kPlotTop - kPlotBottom;
  const auto px = [&](double calls) { return left + xAxis.fraction(calls) * width; };
  const auto py = [&](double growth) { return top + height - yAxis.fraction(growth) * height; };

  // Grid and y tick labels; the zero line darker.
  for (double tick : yAxis.ticks()) {
    const double ty = py(tick);
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>\n",
        num(left), num(ty), num(left + width), num(ty), tick == 0 ? "#9a9a9a" : kGrid);
    svg += text(left - 5, ty + 3, tickLabel(m, tick),
                fmt::format("font-size=\"9\" text-anchor=\"end\" fill=\"{}\"", kMuted));
  }
  // X ticks and labels.
  for (double tick : xAxis.ticks()) {
    const double tx = px(tick);
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>\n",
        num(tx), num(top + height), num(tx), num(top + height + 3), kMuted);
    svg += text(tx, top + height + 13, formatCount(tick),
                fmt::format("font-size=\"9\" text-anchor=\"middle\" fill=\"{}\"", kMuted));
  }
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#9a9a9a\" "
      "stroke-width=\"1\"/>\n",
      num(left), num(top), num(width), num(height));
  svg += text(left + width / 2, top + height + 25, "calls",
              fmt::format("font-size=\"9\" text-anchor=\"middle\" fill=\"{}\"", kMuted));

  // The series, from the origin (nothing measured yet) through one point per run.
  std::string coordinates = fmt::format("{},{}", num(px(0)), num(py(0)));
  for (const Point& p : points)
    coordinates += fmt::format(" {},{}", num(px(p.calls)), num(py(p.growth)));
  svg += fmt::format(
      "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" "
      "stroke-linejoin=\"round\"/>\n",
      coordinates, colour, highlighted ? "2" : "1.5");
  for (const Point& p : points) {
    svg += fmt::format(
        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"><title>{}</title></circle>\n",
        num(px(p.calls)), num(py(p.growth)), highlighted ? "3" : "2.5", colour,
        xmlText(fmt::format("run {}: {} calls, {}", p.run, static_cast<long long>(p.calls),
                            formatMetric(m, p.growth, false))));
  }
  svg += "</g>\n";
  return svg;
}

// One target: its title and verdict, then its panels, four to a row. Returns the height.
double section(std::string& svg, const Report& report, double y) {
  const Verdict& verdict = report.verdict;
  svg += text(kMargin, y + 16, truncateText(targetTitle(report), kLineChars),
              fmt::format("font-size=\"13\" font-weight=\"bold\" fill=\"{}\"", kInk));
  svg += text(kMargin, y + 33, truncateText(formatVerdictLine(verdict), kLineChars),
              fmt::format("font-size=\"11\" fill=\"{}\"", verdictColour(verdict)));
  y += kSectionTitleHeight;

  std::vector<std::pair<Metric, std::vector<Point>>> panels;
  for (Metric m : kPlotOrder) {
    std::vector<Point> points = seriesOf(report.runs, m);
    if (!points.empty()) panels.emplace_back(m, std::move(points));
  }
  if (panels.empty()) {
    svg += noRunsPanel(kMargin, y, verdict);
    return kSectionTitleHeight + kPanelHeight + kGap;
  }
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const double px = kMargin + static_cast<double>(i % kColumns) * (kPanelWidth + kGap);
    const double py = y + static_cast<double>(i / kColumns) * (kPanelHeight + kGap);
    svg +=
        metricPanel(px, py, panels[i].first, panels[i].second, isGrowing(verdict, panels[i].first));
  }
  const std::size_t rows = (panels.size() + kColumns - 1) / kColumns;
  return kSectionTitleHeight + static_cast<double>(rows) * (kPanelHeight + kGap);
}

// Characters of a UTF-8 text (code points; a stray byte counts as one), to lay text out.
std::size_t characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The names, comma-separated, wrapped into lines of at most kLineChars characters; past
// kMaxCleanLines the last line says how many more there are.
constexpr std::size_t kMaxCleanLines = 12;
std::vector<std::string> wrapNames(const std::vector<std::string>& names) {
  std::vector<std::string> lines;
  std::vector<std::size_t> firstName;  // of each line
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string name = truncateText(names[i], kLineChars - 2) + (i + 1 < names.size() ? "," : "");
    if (lines.empty() || characters(lines.back()) + 1 + characters(name) > kLineChars) {
      lines.push_back(name);
      firstName.push_back(i);
    } else {
      lines.back() += " " + name;
    }
  }
  if (lines.size() > kMaxCleanLines) {
    const std::size_t more = names.size() - firstName[kMaxCleanLines - 1];
    lines.resize(kMaxCleanLines - 1);
    lines.push_back(fmt::format("\xE2\x80\xA6 and {} more (the --json report lists every result)", more));
  }
  return lines;
}

// A scan's clean targets, folded into one compact panel: how many, and their names (a
// scan of dozens of clean modules' functions would otherwise be thousands of pixels of
// flat lines, and hide the few that matter). Returns the height.
double cleanRow(std::string& svg, const std::vector<std::string>& names, double y) {
  constexpr double kLineHeight = 15;
  const std::vector<std::string> lines = wrapNames(names);
  const double height = 28 + kLineHeight * static_cast<double>(lines.size());
  svg += fmt::format("<g>\n<title>{}</title>\n", xmlText("clean targets"));
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"#ffffff\" "
      "stroke=\"{}\" stroke-width=\"1\"/>\n",
      num(kMargin), num(y), num(kWidth - 2 * kMargin), num(height), kFrame);
  svg += text(kMargin + 10, y + 18,
              fmt::format("{} clean target{} (no leak; runs not plotted)", names.size(),
                          names.size() == 1 ? "" : "s"),
              fmt::format("font-size=\"12\" font-weight=\"bold\" fill=\"{}\"", kCleanColour));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    svg += text(kMargin + 10, y + 18 + kLineHeight * static_cast<double>(i + 1), lines[i],
                fmt::format("font-size=\"11\" fill=\"{}\"", kInk));
  }
  svg += "</g>\n";
  return height + kGap;
}

// The title, the counts and, when panels follow (withLegend), the legend.
std::string header(const ScanReport& scan, bool anyLeak, bool withLegend) {
  const int leaks = scan.count(VerdictStatus::Leak);
  const int errors = scan.count(VerdictStatus::Error);
  const int clean = scan.count(VerdictStatus::Clean);
  std::string title = "psleak " + scan.command;
  if (!scan.modules.empty()) title += fmt::format(" {}", fmt::join(scan.modules, " "));
  std::string summary = fmt::format("{} target{}: {} leak{}, {} error{}, {} clean",
                                    scan.results.size(), scan.results.size() == 1 ? "" : "s", leaks,
                                    leaks == 1 ? "" : "s", errors, errors == 1 ? "" : "s", clean);
  if (!scan.skipped.empty()) summary += fmt::format(", {} skipped", scan.skipped.size());
  std::string svg;
  svg += text(kMargin, 24, truncateText(title, kLineChars),
              fmt::format("font-size=\"15\" font-weight=\"bold\" fill=\"{}\"", kInk));
  svg += text(kMargin, 42, summary, fmt::format("font-size=\"11\" fill=\"{}\"", kInk));
  if (!withLegend) return svg;
  // Caption and legend.
  const double y = 60;
  const auto swatch = [&](double x, std::string_view colour) {
    return fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"/>"
        "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"/>\n",
        num(x), num(y - 4), num(x + 18), num(y - 4), colour, num(x + 9), num(y - 4), colour);
  };
  svg += swatch(kMargin, kNeutral);
  svg += text(kMargin + 24, y, "metric", fmt::format("font-size=\"11\" fill=\"{}\"", kInk));
  double x = kMargin + 80;
  if (anyLeak) {
    svg += swatch(x, kHighlight);
    svg += text(x + 24, y, "kept growing (the leak verdict)",
                fmt::format("font-size=\"11\" fill=\"{}\"", kInk));
    x += 230;
  }
  svg += text(x, y,
              "y: growth summed over runs 1..k;  x: calls made up to the end of run k;  "
              "one point per run",
              fmt::format("font-size=\"11\" fill=\"{}\"", kMuted));
  return svg;
}

// The document. With foldClean (a scan or a batch), clean targets are one compact row
// (cleanRow) and only leaking and failing ones get their panels; one `psleak run` is
// drawn in full whatever its verdict.
std::string render(const ScanReport& scan, bool foldClean) {
  const bool anyLeak = std::any_of(scan.results.begin(), scan.results.end(), [](const Report& r) {
    return r.verdict.status == VerdictStatus::Leak;
  });
  std::vector<std::string> clean;
  if (foldClean) {
    for (const Report& report : scan.results) {
      if (report.verdict.status == VerdictStatus::Clean) clean.push_back(targetTitle(report));
    }
  }
  const bool anyPanels = clean.size() < scan.results.size();
  std::string body = header(scan, anyLeak, anyPanels);
  double y = anyPanels ? kHeaderHeight : kHeaderWithoutLegendHeight;
  if (!clean.empty()) y += cleanRow(body, clean, y);
  for (const Report& report : scan.results) {
    if (foldClean && report.verdict.status == VerdictStatus::Clean) continue;
    y += section(body, report, y);
  }
  if (scan.results.empty()) {
    body += text(kMargin, y + 16, "no targets were checked",
                 fmt::format("font-size=\"12\" fill=\"{}\"", kMuted));
    y += 32;
  }
  const double height = y + kMargin - kGap;

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"{2}\">\n",
      num(kWidth), num(height), kFont);
  svg += fmt::format("<title>{}</title>\n",
                     xmlText("psleak " + scan.command + ": memory growth against calls"));
  svg += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fafbfc\"/>\n",
                     num(kWidth), num(height));
  svg += body;
  svg += "</svg>\n";
  return svg;
}

}  // namespace

std::string toSvgPlot(const ScanReport& scan) { return render(scan, /*foldClean=*/true); }

std::string toSvgPlot(const Report& report) {
  ScanReport scan;
  scan.command = report.command;
  if (report.target && !report.target->spec.empty()) scan.modules.push_back(report.target->spec);
  scan.results.push_back(report);
  scan.durationSeconds = report.durationSeconds;
  return render(scan, /*foldClean=*/false);
}

}  // namespace psleak
