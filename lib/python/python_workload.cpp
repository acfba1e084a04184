#include "python/python_workload.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <tuple>

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

Interrupted interruptedAfter(std::int64_t calls) {
  return Interrupted(std::string("stopped by ") + platform::interruptName() + " after " +
                         std::to_string(calls) + " calls",
                     platform::terminationRequested());
}

}  // namespace

void flushStdio() {
  flushStream("stdout");
  flushStream("stderr");
  std::fflush(nullptr);
}

PythonWorkload::PythonWorkload(const ResolvedTarget& target, PyObject* clearCallback)
    : target_(target),
      clearCallback_(clearCallback),
      gcCollect_(attribute("gc", "collect")),
      clearTypeCache_(attribute("sys", "_clear_type_cache")),
      clearLineCache_(attribute("linecache", "clearcache")) {
  vector_.push_back(nullptr);
  for (const PyRef& arg : target.positional) vector_.push_back(arg.get());
  positionalCount_ = target.positional.size();
  for (const PyRef& value : target.keywordValues) vector_.push_back(value.get());
}

void PythonWorkload::afterTargetCode() {
  if (forkWatch_.inForkedChildStrict()) platform::leaveForkedChild();
  const platform::ReplacedHandlers replaced = platform::restoreInterruptHandlers();
  for (const auto& [was, name, request] : {std::tuple{replaced.interrupt, "SIGINT", "a Ctrl-C"},
                                           std::tuple{replaced.terminate, "SIGTERM", "a SIGTERM"}}) {
    if (was) {
      spdlog::warn("the target replaced psleak's {} handler; psleak put its own back between "
                   "calls ({} that came while the target's handler was in place may have been lost)",
                   name, request);
    }
  }
}

void PythonWorkload::failCall() {
  if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
    // Ctrl-C reached the target's Python code through a handler the target put in place
    // of psleak's (Python's own raises KeyboardInterrupt): a stop request all the same.
    PyErr_Clear();
    throw Interrupted("stopped by Ctrl-C (KeyboardInterrupt in the target) after " +
                          std::to_string(callsMade_) + " calls",
                      false);
  }
  if (forkWatch_.inForkedChild()) platform::leaveForkedChild();
  const std::string context = "target '" + target_.description + "' raised on call " +
                              std::to_string(callsMade_ + 1);
  throwTargetError(context);
}

void PythonWorkload::call(std::int64_t times) {
  PyObject* const callable = target_.callable.get();
  PyObject* const* const args = vector_.data() + 1;
  const std::size_t nargsf = positionalCount_ | PY_VECTORCALL_ARGUMENTS_OFFSET;
  PyObject* const keywordNames = target_.keywordNames.get();
  PyObject* const expected = target_.expectedException.get();

  for (std::int64_t i = 0; i < times; ++i) {
    if (platform::interruptRequested()) throw interruptedAfter(callsMade_);
    PyObject* result = PyObject_Vectorcall(callable, args, nargsf, keywordNames);
    if (forkWatch_.inForkedChild()) platform::leaveForkedChild();
    if (result) {
      Py_DECREF(result);
      if (expected) {
        throw MissingExpectedException("target '" + target_.description + "' returned normally on call " +
                                       std::to_string(callsMade_ + 1) + " instead of raising " +
                                       reinterpret_cast<PyTypeObject*>(expected)->tp_name);
      }
    } else if (expected && PyErr_ExceptionMatches(expected)) {
      PyErr_Clear();  // the error path is what is being checked
    } else {
      failCall();
    }
    ++callsMade_;
  }
  afterTargetCode();
}

void PythonWorkload::clearCaches() {
  flushStdio();
  if (clearCallback_) {
    PyRef result = PyRef::steal(PyObject_CallNoArgs(clearCallback_));
    afterTargetCode();
    if (!result) throwTargetError("trim_callback raised");
  }
  callIgnoringResult(gcCollect_.get(), "gc.collect()");
  afterTargetCode();
  callIgnoringResult(clearTypeCache_.get(), "sys._clear_type_cache()");
  callIgnoringResult(clearLineCache_.get(), "linecache.clearcache()");
  if (PyObject* importers = PySys_GetObject("path_importer_cache"); importers && PyDict_Check(importers)) {
    PyDict_Clear(importers);
  }
}

}  // namespace psleak::py
