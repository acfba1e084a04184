#include "commands/python_commands.h"

#include "core/errors.h"
#include "python/python_error.h"

namespace psleak {

int runPythonMain(const std::vector<std::string>& args, py::InterpreterOptions options) {
  options.pythonCommandLine = true;
  options.currentDirectoryFirst = false;  // Python sets sys.path[0] as for the command line
  options.argv = args;
  try {
    py::Interpreter interpreter(options);
    // Runs what the command line asks, then finalizes the interpreter as python does.
    return Py_RunMain();
  } catch (const py::PythonExit& exit) {
    return exit.code;  // `psleak python -V`: Python printed its answer already
  }
}

int runTestPaths(const std::vector<std::string>& paths, int verbosity,
                 py::InterpreterOptions options) {
  options.argv = {"psleak test"};
  py::Interpreter interpreter(options);
  py::PyRef module = py::PyRef::steal(PyImport_ImportModule("psleak"));
  if (!module) py::throwInternalError("importing the psleak module");
  py::PyRef list = py::PyRef::steal(PyList_New(0));
  for (const std::string& path : paths) {
    py::PyRef item = py::PyRef::steal(PyUnicode_DecodeFSDefault(path.c_str()));
    if (!item || PyList_Append(list.get(), item.get()) != 0) py::throwInternalError("listing paths");
  }
  py::PyRef passed = py::PyRef::steal(
      PyObject_CallMethod(module.get(), "_run_tests", "Oi", list.get(), verbosity));
  if (!passed) {
    if (PyErr_ExceptionMatches(PyExc_FileNotFoundError)) {
      throw UsageError("psleak test: " + py::fetchException().message);
    }
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) return 1;
    const py::PythonException error = py::fetchException();
    throw TargetError("psleak test: " + error.summary(), error.traceback);
  }
  return PyObject_IsTrue(passed.get()) ? 0 : 1;
}

}  // namespace psleak
