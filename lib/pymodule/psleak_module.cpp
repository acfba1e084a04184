#include "pymodule/psleak_module.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

#include "commands/check_target.h"
#include "core/errors.h"
#include "core/version.h"
#include "psleak/platform/allocator_stats.h"
#include "psleak/platform/system_info.h"
#include "psleak_api_source.h"
#include "python/python_error.h"
#include "report/format.h"
#include "report/json_report.h"

namespace psleak::pymodule {
namespace {

const char* gEmbeddedAllocator = nullptr;

PyObject* mallocInfo(PyObject*, PyObject*) {
  const platform::AllocatorStats stats = platform::readAllocatorStats();
  return Py_BuildValue("{s:L,s:L,s:L}", "heap_used", static_cast<long long>(stats.heapUsed),
                       "mmap_used", static_cast<long long>(stats.mmapUsed), "heap_total",
                       static_cast<long long>(stats.heapTotal));
}

PyObject* mallocTrim(PyObject*, PyObject*) { return PyBool_FromLong(platform::trimAllocator()); }

// The target as the test case passed it: the callable and its arguments, already objects.
py::ResolvedTarget targetOf(PyObject* fun, PyObject* positional, PyObject* kwargs,
                            PyObject* expected) {
  py::ResolvedTarget target;
  target.callable = py::PyRef::borrow(fun);
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(positional); ++i) {
    target.positional.push_back(py::PyRef::borrow(PyTuple_GET_ITEM(positional, i)));
  }
  if (PyDict_GET_SIZE(kwargs) > 0) {
    target.keywordNames = py::PyRef::steal(PyTuple_New(PyDict_GET_SIZE(kwargs)));
    if (!target.keywordNames) py::throwInternalError("building keyword names");
    PyObject *key, *value;
    Py_ssize_t position = 0, index = 0;
    while (PyDict_Next(kwargs, &position, &key, &value)) {
      Py_INCREF(key);
      PyTuple_SET_ITEM(target.keywordNames.get(), index++, key);  // steals the new reference
      target.keywordValues.push_back(py::PyRef::borrow(value));
    }
  }
  if (expected != Py_None) target.expectedException = py::PyRef::borrow(expected);
  target.description = py::toRepr(fun, 120);
  return target;
}

// Every metric's tolerance from {"heap_used": 0, ...} (validated by the Python side).
Tolerance toleranceOf(PyObject* tolerance) {
  Tolerance result;
  PyObject *key, *value;
  Py_ssize_t position = 0;
  while (PyDict_Next(tolerance, &position, &key, &value)) {
    const auto metric = metricFromName(py::toString(key));
    if (!metric) throw UsageError("tolerance: unknown metric " + py::toRepr(key));
    result.set(*metric, PyLong_AsLongLong(value));
  }
  return result;
}

CheckSelection checksOf(PyObject* names) {
  std::vector<std::string> list;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); ++i) {
    list.push_back(py::toString(PyList_GET_ITEM(names, i)));
  }
  return CheckSelection::fromOptions(list, {});
}

// The message of the exception a test fails with: the verdict, then the run table
// and the findings as `psleak run` prints them.
std::string reportText(const Report& report, bool rawBytes) {
  std::string text = report.verdict.message + "\n";
  for (const RunDelta& run : report.runs) text += formatRunLine(run, {rawBytes}) + "\n";
  // The memory leak is the first line already; the other findings list their items.
  std::vector<Finding> others;
  for (const Finding& finding : report.findings) {
    if (finding.kind != CheckKind::Memory || finding.severity != Severity::Leak) others.push_back(finding);
  }
  text += formatFindings(others);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

py::PyRef toPython(const Report& report) {
  const std::string json = toJson(report).dump();
  py::PyRef module = py::PyRef::steal(PyImport_ImportModule("json"));
  if (!module) return {};
  py::PyRef dict = py::PyRef::steal(PyObject_CallMethod(module.get(), "loads", "s", json.c_str()));
  if (!dict) return {};
  py::PyRef text = py::PyRef::steal(PyUnicode_FromString(reportText(report, false).c_str()));
  if (!text || PyDict_SetItemString(dict.get(), "text", text.get()) != 0) return {};
  return dict;
}

// _check(fun, args, kwargs, warmup, times, retries, tolerance, checks, exc, trim_callback,
// verbosity) -> report dict. The Python side validates the arguments; an unexpected
// exception from the target becomes verdict status "error" with its traceback.
PyObject* check(PyObject*, PyObject* args) {
  PyObject *fun, *positional, *kwargs, *tolerance, *checks, *expected, *trimCallback;
  long long warmup = 0, times = 0;
  int retries = 0, verbosity = 0;
  if (!PyArg_ParseTuple(args, "OO!O!LLiO!O!OOi", &fun, &PyTuple_Type, &positional, &PyDict_Type,
                        &kwargs, &warmup, &times, &retries, &PyDict_Type, &tolerance,
                        &PyList_Type, &checks, &expected, &trimCallback, &verbosity)) {
    return nullptr;
  }
  Report report;
  report.command = "execute";
  try {
    const py::ResolvedTarget target = targetOf(fun, positional, kwargs, expected);
    CheckOptions options;
    options.check.warmup = warmup;
    options.check.calls = times;
    options.check.detector.retries = retries;
    options.check.detector.tolerance = toleranceOf(tolerance);
    options.checks = checksOf(checks);
    options.clearCallback = trimCallback == Py_None ? nullptr : trimCallback;
    TargetDescription description;
    description.spec = target.description;
    report.target = description;
    report.settings = CheckSettingsDescription{warmup, times, retries,
                                               options.check.detector.tolerance,
                                               options.checks.names()};
    RunCallback printRun;
    if (verbosity > 0) {
      printRun = [](const RunDelta& run, const Assessment&) {
        PySys_WriteStderr("%s\n", formatRunLine(run, {}).c_str());
      };
    }
    checkTarget(target, options, report, printRun);
  } catch (const MissingExpectedException& e) {
    report.verdict = errorVerdict("expected-exception", e.what());
  } catch (const TargetError& e) {
    report.verdict = errorVerdict("target", e.what(), e.details());
  } catch (const UsageError& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
    return nullptr;
  } catch (const Interrupted& e) {
    PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    return nullptr;
  } catch (const std::exception& e) {
    PyErr_Format(PyExc_RuntimeError, "psleak: %s", e.what());
    return nullptr;
  }
  return toPython(report).release();
}

PyMethodDef kMethods[] = {
    {"malloc_info", mallocInfo, METH_NOARGS,
     "malloc_info() -> dict\n\nThe native allocator's statistics now, in bytes: heap_used "
     "(in malloc'd heap blocks), mmap_used (in blocks served by mmap), heap_total (arena "
     "size held from the OS)."},
    {"malloc_trim", mallocTrim, METH_NOARGS,
     "malloc_trim() -> bool\n\nAsks the allocator to return free memory to the OS; True if "
     "any was released."},
    {"_check", check, METH_VARARGS, "Internal: the check behind MemoryLeakTestCase.execute()."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef kModule = {
    PyModuleDef_HEAD_INIT,
    "psleak",
    "psleak: find native memory and resource leaks in Python callables.\n\n"
    "malloc_info(), malloc_trim(), and MemoryLeakTestCase for unittest.",
    -1,
    kMethods,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

// Outside the psleak executable, keep psleak's progress logs off the user's stdout.
void quietLogging() {
  if (gEmbeddedAllocator) return;
  auto logger = spdlog::get("psleak");
  if (!logger) logger = spdlog::stderr_logger_st("psleak");
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace

void setEmbeddedAllocator(const char* allocator) { gEmbeddedAllocator = allocator; }

}  // namespace psleak::pymodule

extern "C" PyObject* PyInit_psleak() {
  using psleak::py::PyRef;
  using namespace psleak::pymodule;
  quietLogging();
  PyRef module = PyRef::steal(PyModule_Create(&kModule));
  if (!module) return nullptr;
  PyObject* globals = PyModule_GetDict(module.get());  // borrowed
  PyRef allocator = PyRef::steal(gEmbeddedAllocator ? PyUnicode_FromString(gEmbeddedAllocator)
                                                    : PyRef::borrow(Py_None).release());
  PyRef version = PyRef::steal(PyUnicode_FromString(psleak::kPsleakVersion));
  if (!allocator || !version ||
      PyDict_SetItemString(globals, "_EMBEDDED_ALLOCATOR", allocator.get()) != 0 ||
      PyDict_SetItemString(globals, "__version__", version.get()) != 0 ||
      PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) != 0) {
    return nullptr;
  }
  PyRef code = PyRef::steal(Py_CompileString(kApiSource, "psleak_api.py", Py_file_input));
  if (!code) return nullptr;
  PyRef result = PyRef::steal(PyEval_EvalCode(code.get(), globals, globals));
  if (!result) return nullptr;
  return module.release();
}
