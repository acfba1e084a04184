#include "python/interpreter.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

#include "core/errors.h"
#include "psleak/platform/run_program.h"
#include "pymodule/psleak_module.h"
#include "python/interpreter_functions.h"
#include "python/python_error.h"

#ifndef PSLEAK_DEFAULT_PYTHON
#define PSLEAK_DEFAULT_PYTHON "/usr/bin/python3"
#endif

namespace psleak::py {
namespace fs = std::filesystem;
namespace {

// The major.minor of a virtual environment, from its pyvenv.cfg, if `executable` is in one.
std::optional<std::string> venvVersion(const fs::path& executable) {
  for (const fs::path& dir : {executable.parent_path(), executable.parent_path().parent_path()}) {
    std::ifstream cfg(dir / "pyvenv.cfg");
    if (!cfg) continue;
    static const std::regex versionLine(R"(^\s*version(_info)?\s*=\s*(\d+)\.(\d+))");
    std::string line;
    while (std::getline(cfg, line)) {
      std::smatch m;
      if (std::regex_search(line, m, versionLine)) return m[2].str() + "." + m[3].str();
    }
    return std::string();  // a venv whose version is not written down
  }
  return std::nullopt;
}

// Seconds a --python interpreter may take to say its version (a cold start on a busy
// machine takes well under one).
constexpr int kVersionQuestionTimeoutMs = 10000;

// The major.minor that `executable` reports when run, asked without a shell: the path
// is passed as it is, whatever quotes or spaces it holds. Throws UsageError (naming
// `origin`) when it cannot be run, fails, hangs or answers nonsense.
std::string askVersion(const fs::path& executable, const std::string& origin) {
  const platform::ProgramOutput answer = platform::runProgram(
      {executable.string(), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"},
      kVersionQuestionTimeoutMs);
  if (!answer.succeeded()) {
    throw UsageError(origin + ": cannot tell which Python version this is (asked for it, it " +
                     answer.failure + ")");
  }
  static const std::regex versionText(R"(^(\d+\.\d+)\s*$)");
  std::smatch m;
  if (!std::regex_match(answer.output, m, versionText)) {
    throw UsageError(origin + ": cannot tell which Python version this is (it did not answer as Python does)");
  }
  return m[1].str();
}

// Which python executable's view of the world (sys.prefix, site-packages) to adopt.
// `origin` names where the choice came from, for error messages.
std::string choosePythonExecutable(const InterpreterOptions& options) {
  std::string chosen;
  std::string origin;
  if (!options.pythonExecutable.empty()) {
    chosen = options.pythonExecutable;
    origin = "--python " + chosen;
  } else if (const char* venv = std::getenv("VIRTUAL_ENV"); venv && *venv) {
    chosen = (fs::path(venv) / "bin" / "python").string();
    origin = std::string("VIRTUAL_ENV=") + venv;
  } else {
    return PSLEAK_DEFAULT_PYTHON;
  }

  std::error_code ec;
  fs::path path = fs::absolute(chosen, ec);
  if (ec || !fs::exists(path, ec)) throw UsageError(origin + ": no such python executable");
  if (::access(path.c_str(), X_OK) != 0) throw UsageError(origin + ": not an executable file");

  std::optional<std::string> version = venvVersion(path);
  if (!version || version->empty()) version = askVersion(path, origin);
  if (*version != embeddedPythonVersion()) {
    throw UsageError(origin + ": is Python " + *version + ", but psleak embeds Python " +
                     embeddedPythonVersion() + "; use a virtual environment of Python " +
                     embeddedPythonVersion() + " or rebuild psleak with -DPython3_EXECUTABLE");
  }
  // Keep the venv's own path (not the symlink target): that is how Python finds pyvenv.cfg.
  return path.lexically_normal().string();
}

// Owns a PyConfig between PyConfig_Init* and PyConfig_Clear.
class ConfigGuard {
 public:
  ConfigGuard() { PyConfig_InitPythonConfig(&config_); }
  ~ConfigGuard() { PyConfig_Clear(&config_); }
  PyConfig* get() { return &config_; }

  void check(PyStatus status, const char* step) {
    // The python command line's own answers (--help, -V) end start-up with an exit code.
    if (PyStatus_IsExit(status)) throw PythonExit{status.exitcode};
    if (PyStatus_Exception(status)) {
      throw InternalError(std::string("cannot start the Python interpreter (") + step + "): " +
                          (status.err_msg ? status.err_msg : "unknown error"));
    }
  }

 private:
  PyConfig config_;
};

void putCurrentDirectoryFirst() {
  std::error_code ec;
  const std::string cwd = fs::current_path(ec).string();
  if (ec) return;
  PyObject* path = PySys_GetObject("path");  // borrowed
  PyRef entry = PyRef::steal(PyUnicode_DecodeFSDefault(cwd.c_str()));
  if (!path || !entry || PyList_Insert(path, 0, entry.get()) != 0) {
    throwInternalError("cannot put the current directory on sys.path");
  }
}

// The psleak module if asked for (its Python half imports what it uses) and the
// interpreter's functions the checks call.
void importOwnModules(bool psleakModule) {
  if (psleakModule) {
    PyRef psleak = PyRef::steal(PyImport_ImportModule("psleak"));
    if (!psleak) throwInternalError("importing psleak's own module");
  }
  interpreterFunctions();
}

}  // namespace

std::string embeddedPythonVersion() {
  return std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
}

Interpreter::Interpreter(const InterpreterOptions& options) {
  const std::string executable = choosePythonExecutable(options);

  // `import psleak` finds the module built into this executable.
  pymodule::setEmbeddedAllocator(options.pymalloc ? "pymalloc" : "malloc");
  if (PyImport_AppendInittab("psleak", PyInit_psleak) != 0) {
    throw InternalError("cannot register the built-in module psleak");
  }

  PyPreConfig preconfig;
  PyPreConfig_InitPythonConfig(&preconfig);
  // What PYTHONMALLOC=malloc does: every object is a malloc() block, so a leaked small
  // object shows in the C allocator's statistics instead of hiding in pymalloc's pools.
  preconfig.allocator = options.pymalloc ? PYMEM_ALLOCATOR_PYMALLOC : PYMEM_ALLOCATOR_MALLOC;
  const PyStatus preStatus = Py_PreInitialize(&preconfig);
  if (PyStatus_Exception(preStatus)) {
    throw InternalError(std::string("cannot pre-initialize Python: ") +
                        (preStatus.err_msg ? preStatus.err_msg : "unknown error"));
  }

  ConfigGuard config;
  config.get()->parse_argv = options.pythonCommandLine ? 1 : 0;
  // program_name decides sys.executable, sys.prefix and whether a pyvenv.cfg is honoured.
  config.check(PyConfig_SetBytesString(config.get(), &config.get()->program_name,
                                       executable.c_str()),
               "program name");
  std::vector<std::string> argv = options.argv;
  if (options.pythonCommandLine) {
    // The python command line's argv[0] is the program; Python takes sys.argv from the
    // rest, and with nothing more reads stdin, or starts the REPL on a terminal.
    argv.insert(argv.begin(), executable);
  } else if (argv.empty()) {
    argv = {""};
  }
  std::vector<char*> argvPointers;
  for (std::string& arg : argv) argvPointers.push_back(arg.data());
  config.check(PyConfig_SetBytesArgv(config.get(), static_cast<Py_ssize_t>(argvPointers.size()),
                                     argvPointers.data()),
               "argv");
  config.check(Py_InitializeFromConfig(config.get()), "initialization");

  // psleak's own imports come first, while sys.path holds no directory of the user's
  // (the working directory, or a script's, which `psleak python` adds in Py_RunMain):
  // an inspect.py or json.py there cannot stand in for the standard library's.
  importOwnModules(options.importPsleakModule);
  if (options.currentDirectoryFirst) putCurrentDirectoryFirst();

  PyObject* sys = PyImport_AddModule("sys");  // borrowed
  info_.version = attributeText(sys, "version");
  info_.version = info_.version.substr(0, info_.version.find(' '));
  info_.executable = attributeText(sys, "executable");
  info_.prefix = attributeText(sys, "prefix");
  info_.allocator = options.pymalloc ? "pymalloc" : "malloc";
  info_.debugBuild = PyObject_HasAttrString(sys, "gettotalrefcount");
}

Interpreter::~Interpreter() {
  if (finalize_ && Py_IsInitialized()) Py_FinalizeEx();
}

}  // namespace psleak::py
