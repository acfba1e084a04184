#pragma once
// `psleak python ARGS...` and `psleak test PATH...`: Python code run inside psleak's
// interpreter (C allocator, `import psleak` built in).

#include <string>
#include <vector>

#include "python/interpreter.h"

namespace psleak {

// Behaves as `python ARGS...` (a script, -c, -m module, or the REPL) and returns the
// exit status Python would. pytest, run there, loads psleak's plugin (--leaks). Throws UsageError / InternalError as Interpreter does.
int runPythonMain(const std::vector<std::string>& args, py::InterpreterOptions options);

// `psleak test --leaks`: each test that passes is then run again under psleak's checks.
struct LeakRepeatOptions {
  bool enabled = false;
  std::string jsonPath;        // --leaks-json FILE (empty: none)
  double budgetSeconds = 0;    // --leaks-budget: seconds of checks at most (0: none given)
};

// unittest discovery over files and folders; 0 when every test passed, 1 otherwise, 130
// when Ctrl-C stopped the run.
// Throws UsageError for a path that does not exist or a --leaks-json file that cannot
// be written.
int runTestPaths(const std::vector<std::string>& paths, int verbosity,
                 py::InterpreterOptions options, const LeakRepeatOptions& leaks = {});

}  // namespace psleak
