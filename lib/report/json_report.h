#pragma once
// The --json document. Its shape is versioned by kJsonSchemaVersion; README and
// man/psleak.1 describe it field by field.

#include <nlohmann/json.hpp>

#include "report/report.h"

namespace psleak {

nlohmann::ordered_json toJson(const Report& report);
nlohmann::ordered_json toJson(const RunDelta& run);

}  // namespace psleak
