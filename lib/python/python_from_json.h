#pragma once
// A JSON document as the Python objects json.loads would make of its text (dict, list,
// str, int, float, bool, None), built directly: the psleak module hands reports to
// Python without serialising them and without importing json into every process.

#include <nlohmann/json.hpp>

#include "python/py_ref.h"

namespace psleak::py {

// Empty (with a Python exception set) when an object cannot be made, e.g. out of memory.
// Text that is not UTF-8 becomes U+FFFD; a float that is not finite becomes None, as it
// does in the JSON text.
PyRef pythonFromJson(const nlohmann::ordered_json& value);

}  // namespace psleak::py
