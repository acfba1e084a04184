#include "python/interpreter_functions.h"

#include <string>

#include "core/errors.h"
#include "python/python_error.h"

namespace psleak::py {
namespace {

// Never freed: the references must outlive the interpreter's own finalization (which
// `psleak python` runs), after which a Py_DECREF would touch freed memory.
InterpreterFunctions* gFunctions = nullptr;

PyRef importModule(const char* name) {
  PyRef module = PyRef::steal(PyImport_ImportModule(name));
  if (!module) throwInternalError(std::string("importing ") + name);
  return module;
}

PyRef attribute(PyObject* module, const char* moduleName, const char* name) {
  PyRef value = PyRef::steal(PyObject_GetAttrString(module, name));
  if (!value) throwInternalError(std::string("looking up ") + moduleName + "." + name);
  return value;
}

// A fresh module made from the standard library's source of `name` (found on `path`),
// not the one in sys.modules, which the program may have changed; nor is it put there.
// Uses the import system's own frozen modules, which every interpreter has loaded.
PyRef loadPrivateCopy(const char* name, PyObject* path) {
  PyObject* modules = PyImport_GetModuleDict();  // borrowed
  PyObject* external = PyDict_GetItemString(modules, "_frozen_importlib_external");  // borrowed
  PyObject* bootstrap = PyDict_GetItemString(modules, "_frozen_importlib");           // borrowed
  if (!external || !bootstrap) return {};
  PyRef finder = PyRef::steal(PyObject_GetAttrString(external, "PathFinder"));
  if (!finder) return {};
  PyRef spec = PyRef::steal(PyObject_CallMethod(finder.get(), "find_spec", "sO", name, path));
  if (!spec || spec.get() == Py_None) return {};
  PyRef module = PyRef::steal(PyObject_CallMethod(bootstrap, "module_from_spec", "O", spec.get()));
  PyRef loader = PyRef::steal(PyObject_GetAttrString(spec.get(), "loader"));
  if (!module || !loader) return {};
  PyRef executed = PyRef::steal(PyObject_CallMethod(loader.get(), "exec_module", "O", module.get()));
  if (!executed) return {};
  return module;
}

InterpreterFunctions lookUp() {
  InterpreterFunctions functions;
  PyRef gc = importModule("gc");
  functions.gcCollect = attribute(gc.get(), "gc", "collect");
  functions.gcGetDebug = attribute(gc.get(), "gc", "get_debug");
  functions.gcSetDebug = attribute(gc.get(), "gc", "set_debug");
  functions.gcGarbage = attribute(gc.get(), "gc", "garbage");
  if (!PyList_Check(functions.gcGarbage.get())) throw InternalError("gc.garbage is not a list");
  PyRef saveAll = attribute(gc.get(), "gc", "DEBUG_SAVEALL");
  functions.gcDebugSaveAll = PyLong_AsLong(saveAll.get());
  if (functions.gcDebugSaveAll == -1 && PyErr_Occurred())
    throwInternalError("reading gc.DEBUG_SAVEALL");

  PyRef threading = importModule("threading");
  functions.threadingEnumerate = attribute(threading.get(), "threading", "enumerate");

  PyRef sys = importModule("sys");
  PyRef path = attribute(sys.get(), "sys", "path");
  functions.startupPath = PyRef::steal(PySequence_Tuple(path.get()));
  if (!functions.startupPath) throwInternalError("copying sys.path");
  functions.clearTypeCache = attribute(sys.get(), "sys", "_clear_type_cache");
  if (PyObject_HasAttrString(sys.get(), "gettotalrefcount")) {
    functions.getTotalRefcount = attribute(sys.get(), "sys", "gettotalrefcount");
  }
  return functions;
}

}  // namespace

const InterpreterFunctions& interpreterFunctions() {
  if (!gFunctions) gFunctions = new InterpreterFunctions(lookUp());
  return *gFunctions;
}

const InterpreterFunctions* interpreterFunctionsIfLookedUp() {
  return gFunctions;
}

PyObject* formatExceptionFunction() {
  static PyObject* format = nullptr;  // never freed, as gFunctions
  if (format || !gFunctions) return format;
  PyRef current = PyRef::borrow(PySys_GetObject("path"));
  PyRef startup = PyRef::steal(PySequence_List(gFunctions->startupPath.get()));
  if (!startup || PySys_SetObject("path", startup.get()) != 0) {
    PyErr_Clear();
    return nullptr;
  }
  PyRef traceback = loadPrivateCopy("traceback", startup.get());
  if (traceback) format = PyObject_GetAttrString(traceback.get(), "format_exception");
  PyErr_Clear();
  // Put back the very list the program had (it may hold a reference to it).
  if (PySys_SetObject("path", current.get()) != 0) PyErr_Clear();
  return format;
}

}  // namespace psleak::py
