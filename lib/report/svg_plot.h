#pragma once
// --plot FILE.svg: each metric's growth against the calls made, for people who would
// rather look than read.
//
// A scan's (or a --targets batch's) clean targets are folded into one compact row at the
// top: how many, and their names. Each leaking or failing target, and the one target of
// a `psleak run` whatever its verdict, gets a section titled with its spec and verdict;
// in it one small panel per
// metric the runs measured (heap_used, mmap_used, uss, rss, vms, heap_total, allocs,
// alloc_bytes, four to a row), plotting one point per run: x = calls made up to the end
// of run k, y = the metric's growth summed over runs 1..k. When the verdict is a leak
// the metrics that kept growing (verdict.growing) are drawn in red, the rest in a neutral
// colour, and the verdict line of a leak is red too; red is used for nothing else, so a
// plot without red shows no leak. A target that failed before its first run gets a panel
// saying "no runs".
//
// The SVG is self-contained: no script, no external font or stylesheet. Pure: returns
// the document; the caller writes it.

#include <string>

#include "report/report.h"
#include "report/scan_report.h"

namespace psleak {

std::string toSvgPlot(const ScanReport& scan);

// One `psleak run`.
std::string toSvgPlot(const Report& report);

}  // namespace psleak
