#include "python/python_workload.h"

#include <cstdio>
#include <string>

#include "core/errors.h"
#include "psleak/platform/interrupt.h"
#include "python/python_error.h"

namespace psleak::py {
namespace {

PyRef attribute(const char* module, const char* name) {
  PyRef imported = PyRef::steal(PyImport_ImportModule(module));
  if (!imported) throwInternalError(std::string("importing ") + module);
  PyRef value = PyRef::steal(PyObject_GetAttrString(imported.get(), name));
  if (!value) throwInternalError(std::string("looking up ") + module + "." + name);
  return value;
}

void callIgnoringResult(PyObject* function, const char* what) {
  PyRef result = PyRef::steal(PyObject_CallNoArgs(function));
  if (!result) throwInternalError(std::string("clearing caches: ") + what);
}

void flushStream(const char* name) {
  PyObject* stream = PySys_GetObject(name);  // borrowed; may be None or missing
  if (!stream || stream == Py_None) return;
  PyRef result = PyRef::steal(PyObject_CallMethod(stream, "flush", nullptr));
  if (!result) PyErr_Clear();  // a closed or odd stream is the target's business
}

// "ValueError", or "OSError or ValueError" for a tuple of classes (as `except` takes).
std::string exceptionNames(PyObject* expected) {
  if (PyType_Check(expected)) return qualifiedName(expected);
  if (!PyTuple_Check(expected)) return toRepr(expected, 80);
  std::string names;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(expected); ++i) {
    if (!names.empty()) names += " or ";
    names += exceptionNames(PyTuple_GET_ITEM(expected, i));
  }
  return names;
}

}  // namespace

PythonWorkload::PythonWorkload(const ResolvedTarget& target, PyObject* clearCallback,
                               const CallRouting& routing)
    : target_(target),
      keepExceptions_(routing.keepExceptions),
      clearCallback_(clearCallback),
      gcCollect_(attribute("gc", "collect")),
      clearTypeCache_(attribute("sys", "_clear_type_cache")),
      clearLineCache_(attribute("linecache", "clearcache")) {
  vector_.push_back(nullptr);
  if (routing.via) {
    callable_ = routing.via;
    vector_.push_back(routing.bound);
    nargsf_ = 1 | PY_VECTORCALL_ARGUMENTS_OFFSET;
    return;
  }
  callable_ = target.callable.get();
  for (const PyRef& arg : target.positional) vector_.push_back(arg.get());
  for (const PyRef& value : target.keywordValues) vector_.push_back(value.get());
  nargsf_ = target.positional.size() | PY_VECTORCALL_ARGUMENTS_OFFSET;
  keywordNames_ = target.keywordNames.get();
}

void PythonWorkload::fail(const std::string& context) const {
  if (keepExceptions_) throwTargetRaised(context);
  throwTargetError(context);
}

void PythonWorkload::call(std::int64_t times) {
  PyObject* const callable = callable_;
  PyObject* const* const args = vector_.data() + 1;
  const std::size_t nargsf = nargsf_;
  PyObject* const keywordNames = keywordNames_;
  PyObject* const expected = target_.expectedException.get();

  for (std::int64_t i = 0; i < times; ++i) {
    if (platform::interruptRequested()) {
      throw Interrupted("stopped by Ctrl-C after " + std::to_string(callsMade_) + " calls");
    }
    PyObject* result = PyObject_Vectorcall(callable, args, nargsf, keywordNames);
    if (result) {
      Py_DECREF(result);
      if (expected) {
        throw MissingExpectedException(
            "target '" + target_.description + "' returned normally on call " +
            std::to_string(callsMade_ + 1) + " instead of raising " + exceptionNames(expected));
      }
    } else if (expected && PyErr_ExceptionMatches(expected)) {
      PyErr_Clear();  // the error path is what is being checked
    } else {
      fail("target '" + target_.description + "' raised on call " + std::to_string(callsMade_ + 1));
    }
    ++callsMade_;
  }
}

void PythonWorkload::clearCaches() {
  flushStream("stdout");
  flushStream("stderr");
  std::fflush(nullptr);
  if (clearCallback_) {
    PyRef result = PyRef::steal(PyObject_CallNoArgs(clearCallback_));
    if (!result) fail("trim_callback raised");
  }
  callIgnoringResult(gcCollect_.get(), "gc.collect()");
  callIgnoringResult(clearTypeCache_.get(), "sys._clear_type_cache()");
  callIgnoringResult(clearLineCache_.get(), "linecache.clearcache()");
  if (PyObject* importers = PySys_GetObject("path_importer_cache"); importers && PyDict_Check(importers)) {
    PyDict_Clear(importers);
  }
}

}  // namespace psleak::py
