#pragma once
// The embedded interpreter's lifetime and set-up: which Python, which allocator,
// which sys.path. One Interpreter per process.

#include <string>
#include <vector>

#include "python/py_ref.h"

namespace psleak::py {

struct InterpreterOptions {
  // Keep pymalloc's pools instead of forcing the C allocator (hides small leaks).
  bool pymalloc = false;
  // A python executable (typically a virtual environment's bin/python) whose
  // sys.path to adopt; empty: $VIRTUAL_ENV, else $PSLEAK_PYTHON, else the interpreter
  // built against (core/python_choice.h).
  std::string pythonExecutable;
  // sys.argv; empty gives [""] as an interactive python has.
  std::vector<std::string> argv;
  // Put the current directory first on sys.path, as `python -m` does.
  bool currentDirectoryFirst = true;
  // Parse argv as the python command line does (-c, -m, a script), for Py_RunMain.
  bool pythonCommandLine = false;
  // Import the built-in modules (registerBuiltinModule: the psleak module, and what its
  // Python half imports: unittest, inspect, dataclasses, ...) before the user's
  // directory goes on sys.path, so that no module there can stand in for one of them.
  // Needed where the module is used (psleak python, psleak test, scan's listing); `run`
  // calls only the interpreter's functions and saves the imports' time.
  bool importBuiltinModules = true;
};

// A module built into the executable, importable in every interpreter it starts. The
// program's entry point registers it before the first Interpreter, so that the
// interpreter itself knows nothing of the modules built on top of it.
struct BuiltinModule {
  const char* name;
  PyObject* (*init)();
  // Told, before each interpreter starts, the allocator it starts with ("malloc" or
  // "pymalloc"); may be null.
  void (*beforeStart)(const char* allocator);
};
void registerBuiltinModule(const BuiltinModule& module);

struct InterpreterInfo {
  std::string version;     // "3.11.2"
  std::string executable;  // sys.executable
  std::string prefix;      // sys.prefix (the venv when there is one)
  std::string allocator;   // "malloc" or "pymalloc"
  bool debugBuild = false; // has sys.gettotalrefcount
};

// The interpreter ended during start-up with an exit code instead of an error, as
// `python --help` and `python -V` do (only with pythonCommandLine).
struct PythonExit {
  int code = 0;
};

class Interpreter {
 public:
  // Throws UsageError for a --python/VIRTUAL_ENV that cannot be used (missing, another
  // Python version) and InternalError when the interpreter fails to start.
  explicit Interpreter(const InterpreterOptions& options);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  const InterpreterInfo& info() const { return info_; }

  // Skip Py_FinalizeEx at destruction: a target may have left threads or state behind
  // that would make finalization hang or crash after the verdict is out.
  void abandon() { finalize_ = false; }

 private:
  InterpreterInfo info_;
  bool finalize_ = true;
};

// "3.11": the Python version psleak was built against.
std::string embeddedPythonVersion();

// The interpreter psleak was configured with (whose sys.path it adopts by default).
std::string defaultPythonExecutable();

}  // namespace psleak::py
