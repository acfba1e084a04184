#pragma once
// The --json document. Its shape is versioned by kJsonSchemaVersion; README and
// man/psleak.1 describe it field by field.

#include <string>

#include <nlohmann/json.hpp>

#include "report/report.h"
#include "report/scan_report.h"

namespace psleak {

nlohmann::ordered_json toJson(const Report& report);
nlohmann::ordered_json toJson(const RunDelta& run);
// A scan, or a run of --targets: every target's document under "results".
nlohmann::ordered_json toJson(const ScanReport& scan);
// `scan --list`: the targets a scan would check, what it skips and why, the modules that
// could not be listed.
nlohmann::ordered_json toJson(const ScanListing& listing);

// The document as text: the one way psleak writes JSON (stdout, a child's report lines,
// the Python module's report). Text that is not UTF-8, whatever path it took into the
// document (a target's message, a --targets file, an argument, a path), is written with
// U+FFFD in place of each bad byte, so that writing a document never fails.
std::string jsonText(const nlohmann::ordered_json& document, int indent = -1);

// The inverses, for reports that cross a process boundary (a target checked in a child
// process). Throw nlohmann::json::exception on a document of another shape.
Report reportFromJson(const nlohmann::ordered_json& document);
RunDelta runFromJson(const nlohmann::ordered_json& run);

}  // namespace psleak
