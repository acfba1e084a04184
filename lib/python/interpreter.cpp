#include "python/interpreter.h"

#include <cstdlib>
#include <filesystem>

#include "core/errors.h"
#include "core/python_choice.h"
#include "python/interpreter_functions.h"
#include "python/python_error.h"

#ifndef PSLEAK_DEFAULT_PYTHON
#define PSLEAK_DEFAULT_PYTHON "/usr/bin/python3"
#endif

namespace psleak::py {
namespace fs = std::filesystem;
namespace {

// The python executable whose view of the world (sys.prefix, site-packages) to adopt.
// The psleak command ran the runtime of the chosen Python's version; a runtime started
// otherwise (or one asked for another version) says so.
std::string choosePythonExecutable(const InterpreterOptions& options) {
  const PythonChoice choice = choosePython(options.pythonExecutable, PSLEAK_DEFAULT_PYTHON);
  if (!choice.isDefault() && choice.version != embeddedPythonVersion()) {
    throw UsageError(choice.origin + ": is Python " + choice.version + ", but psleak embeds Python " +
                     embeddedPythonVersion() + "; build psleak with -DPSLEAK_PYTHONS naming a Python " +
                     choice.version + " interpreter");
  }
  return choice.executable;
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

std::vector<BuiltinModule>& builtinModules() {
  static std::vector<BuiltinModule> modules;
  return modules;
}

// The built-in modules if asked for (the psleak module's Python half imports what it
// uses) and the interpreter's functions the checks call.
void importOwnModules(bool builtins) {
  if (builtins) {
    for (const BuiltinModule& module : builtinModules()) {
      PyRef imported = PyRef::steal(PyImport_ImportModule(module.name));
      if (!imported) throwInternalError(std::string("importing psleak's built-in module ") + module.name);
    }
  }
  interpreterFunctions();
}

}  // namespace

void registerBuiltinModule(const BuiltinModule& module) { builtinModules().push_back(module); }

std::string defaultPythonExecutable() { return PSLEAK_DEFAULT_PYTHON; }

std::string embeddedPythonVersion() {
  return std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
}

Interpreter::Interpreter(const InterpreterOptions& options) {
  const std::string executable = choosePythonExecutable(options);

  // `import psleak` finds the module built into this executable.
  for (const BuiltinModule& module : builtinModules()) {
    if (module.beforeStart) module.beforeStart(options.pymalloc ? "pymalloc" : "malloc");
    if (PyImport_AppendInittab(module.name, module.init) != 0) {
      throw InternalError(std::string("cannot register the built-in module ") + module.name);
    }
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
  importOwnModules(options.importBuiltinModules);
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
