#pragma once
// `psleak info`: the allocator's statistics now (the original package's malloc_info), the embedded
// interpreter and the platform.

#include <nlohmann/json.hpp>
#include <string>

#include "python/interpreter.h"

namespace psleak {

// Starts the interpreter as `psleak run` would and describes it all.
// Throws UsageError / InternalError as Interpreter does.
nlohmann::ordered_json collectInfo(const py::InterpreterOptions& options);

// The same, as aligned "key: value" lines for a person.
std::string formatInfo(const nlohmann::ordered_json& info, bool rawBytes);

}  // namespace psleak
