#include "python/resource_probes.h"

#include <frameobject.h>

#include "core/errors.h"
#include "python/interpreter_functions.h"
#include "python/python_error.h"

namespace psleak::py {
namespace {

std::int64_t integerAttr(PyObject* object, const char* name) {
  PyRef value = PyRef::steal(PyObject_GetAttrString(object, name));
  if (!value || value.get() == Py_None) {
    PyErr_Clear();
    return 0;
  }
  const long long result = PyLong_AsLongLong(value.get());
  if (result == -1 && PyErr_Occurred()) PyErr_Clear();
  return result;
}

void collectGarbage() {
  PyRef collected = PyRef::steal(PyObject_CallNoArgs(interpreterFunctions().gcCollect.get()));
  if (!collected) throwInternalError("gc.collect()");
}

// Sets gc.DEBUG_SAVEALL for its lifetime; then restores the flags and drops what was
// saved, so that the check's own bookkeeping leaves nothing behind.
class SaveAllGuard {
 public:
  SaveAllGuard() : functions_(interpreterFunctions()), garbage_(functions_.gcGarbage.get()) {
    PyRef flags = PyRef::steal(PyObject_CallNoArgs(functions_.gcGetDebug.get()));
    if (!flags) throwInternalError("gc.get_debug()");
    oldFlags_ = PyLong_AsLong(flags.get());
    start_ = PyList_GET_SIZE(garbage_);
    setFlags(oldFlags_ | functions_.gcDebugSaveAll);
  }
  ~SaveAllGuard() {
    // Runs during exception unwinding too: keep any pending Python error aside.
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    setFlags(oldFlags_);
    PyList_SetSlice(garbage_, start_, PyList_GET_SIZE(garbage_), nullptr);
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
  }
  SaveAllGuard(const SaveAllGuard&) = delete;
  SaveAllGuard& operator=(const SaveAllGuard&) = delete;

  void collect() { collectGarbage(); }
  // Objects saved since the guard was made.
  PyObject* garbage() const { return garbage_; }
  Py_ssize_t start() const { return start_; }

 private:
  void setFlags(long flags) {
    PyRef result = PyRef::steal(PyObject_CallFunction(functions_.gcSetDebug.get(), "l", flags));
    if (!result) PyErr_Clear();
  }

  const InterpreterFunctions& functions_;
  PyObject* garbage_;  // gc's own list, kept alive by functions_
  long oldFlags_ = 0;
  Py_ssize_t start_ = 0;
};

bool isExceptionMachinery(PyObject* object) {
  return PyFrame_Check(object) || PyTraceBack_Check(object) || PyExceptionInstance_Check(object);
}

}  // namespace

std::vector<PythonThreadInfo> listPythonThreads() {
  PyRef threads =
      PyRef::steal(PyObject_CallNoArgs(interpreterFunctions().threadingEnumerate.get()));
  if (!threads) throwInternalError("threading.enumerate()");
  std::vector<PythonThreadInfo> result;
  if (!PyList_Check(threads.get()))
    throw InternalError("threading.enumerate() did not return a list");
  const Py_ssize_t count = PyList_GET_SIZE(threads.get());
  for (Py_ssize_t i = 0; i < count; ++i) {
    PyObject* thread = PyList_GET_ITEM(threads.get(), i);  // borrowed
    PythonThreadInfo info;
    info.ident = static_cast<unsigned long>(integerAttr(thread, "ident"));
    info.nativeId = static_cast<long>(integerAttr(thread, "native_id"));
    info.description = toRepr(thread);
    result.push_back(std::move(info));
  }
  return result;
}

std::vector<GarbageObject> garbageLeftBy(const std::function<void()>& call) {
  collectGarbage();
  SaveAllGuard guard;
  call();
  guard.collect();
  std::vector<GarbageObject> objects;
  const Py_ssize_t end = PyList_GET_SIZE(guard.garbage());
  for (Py_ssize_t i = guard.start(); i < end; ++i) {
    PyObject* object = PyList_GET_ITEM(guard.garbage(), i);  // borrowed
    if (isExceptionMachinery(object)) continue;
    objects.push_back({qualifiedName(reinterpret_cast<PyObject*>(Py_TYPE(object))), toRepr(object, 80)});
  }
  return objects;
}

namespace {

// Python 3.12 made some objects immortal (None, True, False, small ints, interned
// strings): they are never freed, so a reference taken and not given back leaks nothing.
// Their count is a sentinel, and an extension built for the stable ABI of an older Python
// still adds to it; watching them would report a leak where none can be.
bool isImmortal(PyObject* object) {
#if PY_VERSION_HEX >= 0x030C0000
  return _Py_IsImmortal(object);
#else
  (void)object;
  return false;
#endif
}

}  // namespace

void RefcountProbe::watch(PyObject* object, std::string name) {
  if (isImmortal(object)) return;
  objects_.push_back(object);
  names_.push_back(std::move(name));
}

RefcountProbe::RefcountProbe(const ResolvedTarget& target) {
  watch(target.callable.get(), "the callable " + toRepr(target.callable.get(), 60));
  for (std::size_t i = 0; i < target.positional.size(); ++i) {
    watch(target.positional[i].get(),
          "argument " + std::to_string(i + 1) + " " + toRepr(target.positional[i].get(), 60));
  }
  for (std::size_t i = 0; i < target.keywordValues.size(); ++i) {
    PyObject* name = PyTuple_GET_ITEM(target.keywordNames.get(), static_cast<Py_ssize_t>(i));
    watch(target.keywordValues[i].get(),
          "keyword argument " + toString(name) + "=" + toRepr(target.keywordValues[i].get(), 60));
  }
  watch(Py_None, "None");
  watch(Py_True, "True");
  watch(Py_False, "False");
  if (const PyRef& total = interpreterFunctions().getTotalRefcount) {
    totalRefcount_ = total.get();
    names_.push_back("all objects (sys.gettotalrefcount)");
  }
}

std::vector<std::int64_t> RefcountProbe::read() const {
  std::vector<std::int64_t> counts;
  counts.reserve(names_.size());
  for (PyObject* object : objects_) counts.push_back(static_cast<std::int64_t>(Py_REFCNT(object)));
  if (totalRefcount_) {
    PyRef total = PyRef::steal(PyObject_CallNoArgs(totalRefcount_));
    if (!total) throwInternalError("sys.gettotalrefcount()");
    counts.push_back(PyLong_AsLongLong(total.get()));
  }
  return counts;
}

}  // namespace psleak::py
