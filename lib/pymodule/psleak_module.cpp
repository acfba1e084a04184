#include "pymodule/psleak_module.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <string>
#include <utility>

#include "commands/check_target.h"
#include "core/errors.h"
#include "core/version.h"
#include "psleak/platform/allocator_stats.h"
#include "psleak/platform/system_info.h"
#include "psleak_api_source.h"
#include "python/interpreter_functions.h"
#include "python/python_error.h"
#include "python/python_from_json.h"
#include "report/format.h"
#include "report/json_report.h"

#if PY_VERSION_HEX >= 0x030D0000
// Python 3.13 moved the declaration to its internal headers; libpython still exports the
// function (PyAPI_FUNC).
extern "C" PyAPI_FUNC(const char*) _PyMem_GetCurrentAllocatorName(void);
#endif

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
  CheckSelection selection = CheckSelection::fromOptions(list, {});
  // MemoryLeakTestCase fails on objects left in reference cycles, as the original does.
  selection.setStrict(CheckKind::Gc, true);
  return selection;
}

// The report as a dict (its JSON document, as json.loads would make it), plus the text
// the exceptions are made of: "run_lines" (the run table, as `psleak run` prints it) and
// each finding's "text".
py::PyRef toPython(const Report& report) {
  nlohmann::ordered_json document = toJson(report);
  nlohmann::ordered_json runLines = nlohmann::ordered_json::array();
  for (const RunDelta& run : report.runs) runLines.push_back(formatRunLine(run, {}));
  document["run_lines"] = runLines;
  for (std::size_t i = 0; i < report.findings.size(); ++i) {
    std::string text = formatFindings({report.findings[i]});
    while (!text.empty() && text.back() == '\n') text.pop_back();
    document["findings"][i]["text"] = text;
  }
  return py::pythonFromJson(document);
}

// Tells `onRun(run, line, stable)` about each run as it ends (verbosity); `stable`: the
// memory check ends there, clean.
RunCallback runPrinter(PyObject* onRun) {
  if (onRun == Py_None) return {};
  return [onRun](const RunDelta& run, const Assessment& assessment) {
    const int stable = assessment.decision == Decision::Clean;
    py::PyRef result = py::PyRef::steal(
        PyObject_CallFunction(onRun, "isi", run.run, formatRunLine(run, {}).c_str(), stable));
    if (!result) py::throwTargetRaised("printing run " + std::to_string(run.run));
  };
}

// _check(fun, args, kwargs, *, warmup, times, retries, tolerance, checks, expected,
// trim_callback, via, bound, on_run) -> report dict. The Python side validates the
// arguments. An exception the target (or trim_callback, or on_run) raises is raised
// again as it was; a call that should have raised `expected` and did not is verdict
// kind "expected-exception".
PyObject* check(PyObject*, PyObject* args, PyObject* keywords) {
  static const char* kKeywords[] = {"fun",     "args",      "kwargs", "warmup",   "times",
                                    "retries", "tolerance", "checks", "expected", "trim_callback",
                                    "via",     "bound",     "on_run", nullptr};
  PyObject *fun, *positional, *kwargs, *tolerance, *checks, *expected, *trimCallback, *via, *bound,
      *onRun;
  long long warmup = 0, times = 0;
  int retries = 0;
  if (!PyArg_ParseTupleAndKeywords(
          args, keywords, "OO!O!$LLiO!O!OOOOO", const_cast<char**>(kKeywords), &fun, &PyTuple_Type,
          &positional, &PyDict_Type, &kwargs, &warmup, &times, &retries, &PyDict_Type, &tolerance,
          &PyList_Type, &checks, &expected, &trimCallback, &via, &bound, &onRun)) {
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
    if (via != Py_None) {
      options.routing.via = via;
      options.routing.bound = bound;
    }
    options.routing.keepExceptions = true;
    TargetDescription description;
    description.spec = target.description;
    report.target = description;
    report.settings = CheckSettingsDescription{
        warmup,         times, retries, options.check.detector.tolerance, options.checks.names(),
        describeHooks()};
    checkTarget(target, options, report, runPrinter(onRun));
  } catch (const py::TargetRaised& e) {
    e.restore();
    return nullptr;
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

// The allocator Python itself uses ("malloc", "pymalloc", "malloc_debug", ...), or None
// when hooks (tracemalloc's) sit in front of it and hide which.
PyObject* allocatorInUse(PyObject*, PyObject*) {
  const char* name = _PyMem_GetCurrentAllocatorName();
  if (!name) Py_RETURN_NONE;
  return PyUnicode_FromString(name);
}

PyMethodDef kMethods[] = {
    {"malloc_info", mallocInfo, METH_NOARGS,
     "malloc_info() -> dict\n\nThe native allocator's statistics now, in bytes: heap_used "
     "(in malloc'd heap blocks), mmap_used (in blocks served by mmap), heap_total (arena "
     "size held from the OS)."},
    {"malloc_trim", mallocTrim, METH_NOARGS,
     "malloc_trim() -> bool\n\nAsks the allocator to return free memory to the OS; True if "
     "any was released."},
    {"_check", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(check)),
     METH_VARARGS | METH_KEYWORDS, "Internal: the check behind MemoryLeakTestCase.execute()."},
    {"_allocator_in_use", allocatorInUse, METH_NOARGS,
     "Internal: the name of the allocator Python uses, or None when it cannot tell."},
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

// psleak's Python sources have no file on disk: each is compiled under a file name of
// its own and shows its lines in tracebacks through linecache (psleak_api.py's
// _show_source_in_tracebacks reads them from _SOURCES).
constexpr const char* kApiFileName = "psleak_api.py";
constexpr const char* kLeaksFileName = "psleak_leaks.py";
constexpr const char* kPytestPluginFileName = "psleak_pytest.py";
// The pytest plugin's module: `-p psleak.pytest_plugin`.
constexpr const char* kPytestPluginModule = "psleak.pytest_plugin";

// {file name: source} of the three sources, or null with an exception set.
py::PyRef sourcesByFileName() {
  py::PyRef sources = py::PyRef::steal(PyDict_New());
  if (!sources) return {};
  const std::pair<const char*, const char*> all[] = {{kApiFileName, kApiSource},
                                                     {kLeaksFileName, kLeaksSource},
                                                     {kPytestPluginFileName, kPytestPluginSource}};
  for (const auto& [fileName, source] : all) {
    py::PyRef text = py::PyRef::steal(PyUnicode_FromString(source));
    if (!text || PyDict_SetItemString(sources.get(), fileName, text.get()) != 0) return {};
  }
  return sources;
}

// Runs `source` in `globals` (given __builtins__ first); false with an exception set.
bool runSource(const char* source, const char* fileName, PyObject* globals) {
  if (!PyDict_GetItemString(globals, "__builtins__") &&
      PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) != 0) {
    return false;
  }
  py::PyRef code = py::PyRef::steal(Py_CompileString(source, fileName, Py_file_input));
  if (!code) return false;
  py::PyRef result = py::PyRef::steal(PyEval_EvalCode(code.get(), globals, globals));
  return static_cast<bool>(result);
}

// Makes the module psleak.pytest_plugin (its code sees the psleak module as `_psleak`) and
// registers it in sys.modules, where `import psleak.pytest_plugin` finds it although
// psleak is no package. False with an exception set.
bool addPytestPlugin(PyObject* psleakModule) {
  py::PyRef plugin = py::PyRef::steal(PyModule_New(kPytestPluginModule));
  if (!plugin) return false;
  PyObject* globals = PyModule_GetDict(plugin.get());  // borrowed
  if (PyDict_SetItemString(globals, "_psleak", psleakModule) != 0 ||
      !runSource(kPytestPluginSource, kPytestPluginFileName, globals) ||
      PyObject_SetAttrString(psleakModule, "pytest_plugin", plugin.get()) != 0) {
    return false;
  }
  return PyDict_SetItemString(PyImport_GetModuleDict(), kPytestPluginModule, plugin.get()) == 0;
}

}  // namespace

void setEmbeddedAllocator(const char* allocator) { gEmbeddedAllocator = allocator; }

}  // namespace psleak::pymodule

extern "C" PyObject* PyInit_psleak() {
  using psleak::py::PyRef;
  using namespace psleak::pymodule;
  quietLogging();
  // The interpreter's functions the checks call, taken now, before any test code can
  // replace them (in the psleak executable the interpreter's start-up took them already).
  try {
    psleak::py::interpreterFunctions();
  } catch (const std::exception& e) {
    PyErr_Format(PyExc_ImportError, "psleak: %s", e.what());
    return nullptr;
  }
  PyRef module = PyRef::steal(PyModule_Create(&kModule));
  if (!module) return nullptr;
  PyObject* globals = PyModule_GetDict(module.get());  // borrowed
  PyRef allocator = PyRef::steal(gEmbeddedAllocator ? PyUnicode_FromString(gEmbeddedAllocator)
                                                    : PyRef::borrow(Py_None).release());
  PyRef version = PyRef::steal(PyUnicode_FromString(psleak::kPsleakVersion));
  PyRef sources = sourcesByFileName();
  if (!allocator || !version || !sources ||
      PyDict_SetItemString(globals, "_EMBEDDED_ALLOCATOR", allocator.get()) != 0 ||
      PyDict_SetItemString(globals, "__version__", version.get()) != 0 ||
      PyDict_SetItemString(globals, "_SOURCES", sources.get()) != 0 ||
      !runSource(kApiSource, kApiFileName, globals) ||
      !runSource(kLeaksSource, kLeaksFileName, globals) ||
      !addPytestPlugin(module.get())) {
    return nullptr;
  }
  return module.release();
}
