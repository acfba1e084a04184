#include "python/python_workload.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>
#include <tuple>

#include "core/errors.h"
#include "psleak/platform/interrupt.h"
#include "python/interpreter_functions.h"
#include "python/other_threads.h"
#include "python/python_error.h"

namespace psleak::py {
namespace {

void callIgnoringResult(PyObject* function, const char* what) {
  PyRef result = PyRef::steal(PyObject_CallNoArgs(function));
  if (!result) throwInternalError(std::string("clearing caches: ") + what);
}

// linecache's cache of source lines, which formatting a traceback fills, emptied as
// linecache.clearcache() does. A program that never imported linecache has none to
// empty, and psleak does not import it (it would bring tokenize and re into every check).
void clearLineCache() {
  PyObject* linecache = PyDict_GetItemString(PyImport_GetModuleDict(), "linecache");  // borrowed
  if (!linecache) return;
  PyRef cache = PyRef::steal(PyObject_GetAttrString(linecache, "cache"));
  if (cache && PyDict_Check(cache.get())) PyDict_Clear(cache.get());
  PyErr_Clear();
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

PythonWorkload::PythonWorkload(const ResolvedTarget& target, PyObject* clearCallback,
                               const CallRouting& routing)
    : target_(target),
      keepExceptions_(routing.keepExceptions),
      clearCallback_(clearCallback),
      functions_(interpreterFunctions()) {
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

void PythonWorkload::fail(const std::string& context) const {
  if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
    // Ctrl-C reached the target's Python code through a handler the target put in place
    // of psleak's (Python's own raises KeyboardInterrupt): a stop request all the same.
    PyErr_Clear();
    throw Interrupted("stopped by Ctrl-C (KeyboardInterrupt in the target) after " +
                          std::to_string(callsMade_) + " calls",
                      false);
  }
  if (forkWatch_.inForkedChild()) platform::leaveForkedChild();
  if (keepExceptions_) throwTargetRaised(context);
  throwTargetError(context);
}

void PythonWorkload::refuseUnrunBody(PyObject* result) {
  const char* kind = PyCoro_CheckExact(result)       ? "coroutine"
                     : PyAsyncGen_CheckExact(result) ? "async generator"
                     : PyGen_Check(result)           ? "generator"
                                                     : nullptr;
  if (!kind) return;
  if (!PyAsyncGen_CheckExact(result)) {
    // Closed, a coroutine that never ran is not reported "never awaited" when it goes.
    PyRef closed = PyRef::steal(PyObject_CallMethod(result, "close", nullptr));
    if (!closed) PyErr_Clear();
  }
  Py_DECREF(result);
  throw TargetError("target '" + target_.description + "' returned " + unrunBodyAdvice(kind));
}

// "a coroutine object: ... check the body instead, e.g. ..." for the kind of object
// returned: a psleak run command when the target was given as MODULE:ATTR, else (the
// Python module's execute()) a callable that runs the body.
std::string PythonWorkload::unrunBodyAdvice(const std::string& kind) const {
  const bool hasArguments = !target_.positional.empty() || !target_.keywordValues.empty();
  std::string module;
  std::string callable = "f";
  if (target_.spec) {
    module = target_.spec->module;
    callable = module;
    for (const std::string& name : target_.spec->attrPath) callable += "." + name;
  }
  const std::string call = callable + (hasArguments ? "(ARGS)" : "()");
  std::string body;  // Python code that runs the body to its end
  std::string setup;
  if (kind == "coroutine") {
    body = "asyncio.run(" + call + ")";
  } else if (kind == "generator") {
    body = "list(" + call + ")";
  } else {
    setup = "async def drain(): return [x async for x in " + call + "]";
    body = "asyncio.run(drain())";
  }
  std::string example;
  if (target_.spec) {
    example = "psleak run -s 'import " + std::string(kind == "generator" ? "" : "asyncio, ") +
              module + "'" + (setup.empty() ? "" : " -s '" + setup + "'") + " -e '" + body + "'";
  } else {
    example = (setup.empty() ? "" : setup + "; ") + "execute(lambda: " + body + ")";
  }
  return std::string(kind == "async generator" ? "an " : "a ") + kind +
         " object: calling it only created the " + kind +
         ", its body never ran, so a verdict would say nothing about it; check the body "
         "instead, e.g. " +
         example;
}

void PythonWorkload::call(std::int64_t times) {
  PyObject* const callable = callable_;
  PyObject* const* const args = vector_.data() + 1;
  const std::size_t nargsf = nargsf_;
  PyObject* const keywordNames = keywordNames_;
  PyObject* const expected = target_.expectedException.get();

  for (std::int64_t i = 0; i < times; ++i) {
    if (platform::interruptRequested()) throw interruptedAfter(callsMade_);
    PyObject* result = PyObject_Vectorcall(callable, args, nargsf, keywordNames);
    if (forkWatch_.inForkedChild()) platform::leaveForkedChild();
    if (result) {
      if (callsMade_ == 0) refuseUnrunBody(result);
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
  afterTargetCode();
}

void PythonWorkload::clearCaches() {
  letOtherPythonThreadsCatchUp();
  flushStdio();
  if (clearCallback_) {
    PyRef result = PyRef::steal(PyObject_CallNoArgs(clearCallback_));
    afterTargetCode();
    if (!result) fail("trim_callback raised");
  }
  callIgnoringResult(functions_.gcCollect.get(), "gc.collect()");
  afterTargetCode();
  callIgnoringResult(functions_.clearTypeCache.get(), "sys._clear_type_cache()");
  clearLineCache();
  if (PyObject* importers = PySys_GetObject("path_importer_cache"); importers && PyDict_Check(importers)) {
    PyDict_Clear(importers);
  }
}

}  // namespace psleak::py
