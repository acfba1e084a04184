#pragma once
// Which Python a check runs under: --python, else an activated virtual environment
// (VIRTUAL_ENV), else PSLEAK_PYTHON, else the Python psleak was configured with. Knows
// nothing of Python's C API: the psleak command uses it to pick a runtime, each runtime
// to set up its interpreter.

#include <string>

namespace psleak {

struct PythonChoice {
  std::string executable;  // the interpreter (a venv's own bin/python path, not its target)
  std::string origin;      // where the choice came from, for errors: "--python X", "VIRTUAL_ENV=..."
  std::string version;     // "3.12"; empty for the default (its version is the build's)
  bool isDefault() const { return origin.empty(); }
};

// The Python asked for, with its major.minor (from a venv's pyvenv.cfg, else by running
// it without a shell). `explicitPython` is --python's value (may be empty). Throws
// UsageError, naming the origin, for a path that is missing, not executable, or that
// cannot say its version.
PythonChoice choosePython(const std::string& explicitPython, const std::string& defaultPython);

}  // namespace psleak
