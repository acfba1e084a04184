#include "commands/python_commands.h"

#include <cstdio>

#include "core/errors.h"
#include "python/python_error.h"

namespace psleak {
namespace {

// pytest, in this interpreter, finds psleak's plugin as an installed one.
void offerPytestPlugin() {
  py::PyRef module = py::PyRef::steal(PyImport_ImportModule("psleak"));
  py::PyRef done = module ? py::PyRef::steal(PyObject_CallMethod(module.get(), "_offer_pytest_plugin", nullptr))
                          : py::PyRef();
  if (!done) py::throwInternalError("offering psleak's pytest plugin");
}

// _run_tests' `leaks` argument: None, or {"budget": seconds or None, "json": path or None}.
py::PyRef leakOptionsDict(const LeakRepeatOptions& leaks) {
  if (!leaks.enabled) return py::PyRef::borrow(Py_None);
  py::PyRef budget = leaks.budgetSeconds > 0 ? py::PyRef::steal(PyFloat_FromDouble(leaks.budgetSeconds))
                                             : py::PyRef::borrow(Py_None);
  py::PyRef json = leaks.jsonPath.empty() ? py::PyRef::borrow(Py_None)
                                          : py::PyRef::steal(PyUnicode_DecodeFSDefault(leaks.jsonPath.c_str()));
  py::PyRef dict = py::PyRef::steal(PyDict_New());
  if (!budget || !json || !dict || PyDict_SetItemString(dict.get(), "budget", budget.get()) != 0 ||
      PyDict_SetItemString(dict.get(), "json", json.get()) != 0) {
    py::throwInternalError("passing the --leaks options");
  }
  return dict;
}

}  // namespace

int runPythonMain(const std::vector<std::string>& args, py::InterpreterOptions options) {
  options.pythonCommandLine = true;
  options.currentDirectoryFirst = false;  // Python sets sys.path[0] as for the command line
  options.argv = args;
  try {
    py::Interpreter interpreter(options);
    offerPytestPlugin();
    // Runs what the command line asks, then finalizes the interpreter as python does.
    return Py_RunMain();
  } catch (const py::PythonExit& exit) {
    return exit.code;  // `psleak python -V`: Python printed its answer already
  }
}

int runTestPaths(const std::vector<std::string>& paths, int verbosity,
                 py::InterpreterOptions options, const LeakRepeatOptions& leaks) {
  options.argv = {"psleak test"};
  py::Interpreter interpreter(options);
  py::PyRef module = py::PyRef::steal(PyImport_ImportModule("psleak"));
  if (!module) py::throwInternalError("importing the psleak module");
  py::PyRef list = py::PyRef::steal(PyList_New(0));
  for (const std::string& path : paths) {
    py::PyRef item = py::PyRef::steal(PyUnicode_DecodeFSDefault(path.c_str()));
    if (!item || PyList_Append(list.get(), item.get()) != 0) py::throwInternalError("listing paths");
  }
  py::PyRef leakOptions = leakOptionsDict(leaks);
  py::PyRef passed = py::PyRef::steal(PyObject_CallMethod(
      module.get(), "_run_tests", "OiO", list.get(), verbosity, leakOptions.get()));
  if (!passed) {
    // A path that does not exist, a --leaks-json file that cannot be written.
    if (PyErr_ExceptionMatches(PyExc_OSError)) {
      throw UsageError("psleak test: " + py::fetchException().message);
    }
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) return 1;
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
      PyErr_Clear();
      std::fprintf(stderr, "psleak test: interrupted (Ctrl-C)\n");
      return static_cast<int>(ExitCode::Interrupted);
    }
    const py::PythonException error = py::fetchException();
    throw TargetError("psleak test: " + error.summary(), error.traceback);
  }
  return PyObject_IsTrue(passed.get()) ? 0 : 1;
}

}  // namespace psleak
