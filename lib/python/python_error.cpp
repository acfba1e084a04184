#include "python/python_error.h"

#include "core/errors.h"
#include "python/interpreter_functions.h"

namespace psleak::py {
namespace {

// A str as UTF-8 that is always valid: a lone surrogate ("\udcff" in a message, a file
// name decoded with surrogateescape) has no UTF-8 form, and PyUnicode_AsUTF8 would fail
// and lose the whole text; it is written as the escape \udcff instead.
std::string utf8(PyObject* text) {
  if (!text) return {};
  Py_ssize_t size = 0;
  if (const char* data = PyUnicode_AsUTF8AndSize(text, &size)) {
    return std::string(data, static_cast<std::size_t>(size));
  }
  PyErr_Clear();
  PyRef bytes = PyRef::steal(PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace"));
  if (!bytes) {
    PyErr_Clear();
    return {};
  }
  return std::string(PyBytes_AS_STRING(bytes.get()),
                     static_cast<std::size_t>(PyBytes_GET_SIZE(bytes.get())));
}

// Through traceback.format_exception; none while psleak's own functions are being
// looked up (an error then is psleak's own and needs no traceback).
std::string formatTraceback(PyObject* exception) {
  if (!interpreterFunctionsIfLookedUp()) return {};
  PyObject* format = formatExceptionFunction();
  if (!format) return {};
  PyRef frames = PyRef::steal(PyException_GetTraceback(exception));
  PyRef lines = PyRef::steal(PyObject_CallFunctionObjArgs(
      format, reinterpret_cast<PyObject*>(Py_TYPE(exception)), exception,
      frames ? frames.get() : Py_None, nullptr));
  if (!lines) {
    PyErr_Clear();
    return {};
  }
  PyRef empty = PyRef::steal(PyUnicode_FromString(""));
  PyRef joined = PyRef::steal(PyUnicode_Join(empty.get(), lines.get()));
  if (!joined) PyErr_Clear();
  return utf8(joined.get());
}

}  // namespace

std::string qualifiedName(PyObject* type) {
  PyRef module = PyRef::steal(PyObject_GetAttrString(type, "__module__"));
  PyRef name = PyRef::steal(PyObject_GetAttrString(type, "__qualname__"));
  if (!module || !name) {
    PyErr_Clear();
    return reinterpret_cast<PyTypeObject*>(type)->tp_name;
  }
  const std::string moduleName = utf8(module.get());
  const std::string typeName = utf8(name.get());
  if (moduleName.empty() || moduleName == "builtins" || moduleName == "__main__") return typeName;
  return moduleName + "." + typeName;
}

PyRef takeRaisedException() {
#if PY_VERSION_HEX >= 0x030C0000
  return PyRef::steal(PyErr_GetRaisedException());
#else
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  if (!type) return {};
  PyErr_NormalizeException(&type, &value, &traceback);
  if (traceback && value) PyException_SetTraceback(value, traceback);
  Py_XDECREF(type);
  Py_XDECREF(traceback);
  return PyRef::steal(value);
#endif
}

std::string toString(PyObject* object) {
  PyRef text = PyRef::steal(PyObject_Str(object));
  if (!text) {
    PyErr_Clear();
    return "<unprintable>";
  }
  return utf8(text.get());
}

std::string attributeText(PyObject* object, const char* name) {
  PyRef value = PyRef::steal(PyObject_GetAttrString(object, name));
  if (!value) {
    PyErr_Clear();
    return {};
  }
  return toString(value.get());
}

std::string toRepr(PyObject* object, std::size_t limit) {
  PyRef text = PyRef::steal(PyObject_Repr(object));
  if (!text) {
    PyErr_Clear();
    return "<unprintable>";
  }
  std::string result = utf8(text.get());
  if (result.size() > limit) {
    std::size_t cut = limit - 3;
    while (cut > 0 && (static_cast<unsigned char>(result[cut]) & 0xC0) == 0x80)
      --cut;  // not mid-character
    result = result.substr(0, cut) + "...";
  }
  return result;
}

PythonException fetchException() {
  PythonException result;
  PyRef exception = takeRaisedException();
  if (!exception) return {"UnknownError", "no exception was set", {}};
  result.typeName = qualifiedName(reinterpret_cast<PyObject*>(Py_TYPE(exception.get())));
  result.message = toString(exception.get());
  result.traceback = formatTraceback(exception.get());
  PyErr_Clear();
  return result;
}

void throwTargetError(const std::string& context) {
  const PythonException error = fetchException();
  throw TargetError(context + ": " + error.summary(), error.traceback);
}

TargetRaised::TargetRaised(const std::string& message, PyRef exception)
    : TargetError(message),
      exception_(exception.release(), [](PyObject* object) { Py_XDECREF(object); }) {}

void TargetRaised::restore() const {
  PyObject* exception = exception_.get();
  if (!exception) {
    PyErr_SetString(PyExc_SystemError, what());
    return;
  }
  // New references, handed over (Py_NewRef would do, but Python 3.9 has none).
#if PY_VERSION_HEX >= 0x030C0000
  PyErr_SetRaisedException(PyRef::borrow(exception).release());
#else
  PyErr_Restore(PyRef::borrow(reinterpret_cast<PyObject*>(Py_TYPE(exception))).release(),
                PyRef::borrow(exception).release(), PyException_GetTraceback(exception));
#endif
}

void throwTargetRaised(const std::string& context) {
  PyRef exception = takeRaisedException();
  const std::string summary =
      exception ? qualifiedName(reinterpret_cast<PyObject*>(Py_TYPE(exception.get()))) + ": " +
                      toString(exception.get())
                : std::string("no exception was set");
  throw TargetRaised(context + ": " + summary, std::move(exception));
}

void throwInternalError(const std::string& context) {
  const PythonException error = fetchException();
  throw InternalError(context + ": " + error.summary());
}

}  // namespace psleak::py
