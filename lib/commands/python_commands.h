#pragma once
// `psleak python ARGS...` and `psleak test PATH...`: Python code run inside psleak's
// interpreter (C allocator, `import psleak` built in).

#include <string>
#include <vector>

#include "python/interpreter.h"

namespace psleak {

// Behaves as `python ARGS...` (a script, -c, -m module, or the REPL) and returns the
// exit status Python would. Throws UsageError / InternalError as Interpreter does.
int runPythonMain(const std::vector<std::string>& args, py::InterpreterOptions options);

// unittest discovery over files and folders; 0 when every test passed, 1 otherwise.
// Throws UsageError for a path that does not exist.
int runTestPaths(const std::vector<std::string>& paths, int verbosity,
                 py::InterpreterOptions options);

}  // namespace psleak
