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
  PyRef traceback = importModule("traceback");
  functions.formatException = attribute(traceback.get(), "traceback", "format_exception");
  PyRef linecache = importModule("linecache");
  functions.clearLineCache = attribute(linecache.get(), "linecache", "clearcache");
  PyRef json = importModule("json");
  functions.jsonLoads = attribute(json.get(), "json", "loads");

  PyRef sys = importModule("sys");
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

}  // namespace psleak::py
