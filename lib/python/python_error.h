#pragma once
// Turning a pending Python exception into text psleak can report.

#include <memory>
#include <string>

#include "core/errors.h"
#include "python/py_ref.h"

namespace psleak::py {

struct PythonException {
  std::string typeName;   // "ModuleNotFoundError"
  std::string message;    // str(exc)
  std::string traceback;  // the formatted traceback, as Python prints it
  // "ModuleNotFoundError: No module named 'x'"
  std::string summary() const { return message.empty() ? typeName : typeName + ": " + message; }
};

// Takes the pending exception (normalized, traceback attached) and clears it.
PyRef takeRaisedException();

// Fetches and clears the pending exception. Must be called with one pending.
PythonException fetchException();

// Throws TargetError("<context>: <Type: message>", traceback) for the pending exception.
[[noreturn]] void throwTargetError(const std::string& context);

// A call of the target raised, and the exception object is kept so that it can be raised
// again unchanged (MemoryLeakTestCase lets the target's own exceptions through). Copies
// share the object; the last one to go drops it, which must happen with the GIL held.
class TargetRaised : public TargetError {
 public:
  TargetRaised(const std::string& message, PyRef exception);
  // Makes the exception pending again, traceback included.
  void restore() const;

 private:
  std::shared_ptr<PyObject> exception_;
};

// Throws TargetRaised("<context>: <Type: message>") for the pending exception.
[[noreturn]] void throwTargetRaised(const std::string& context);

// Throws InternalError for a pending exception raised by psleak's own Python calls.
[[noreturn]] void throwInternalError(const std::string& context);

// "zlib.error", "leakfix_py.Node"; builtins (and __main__) keep their plain names.
std::string qualifiedName(PyObject* type);

// str(object), or "<unprintable>" (never leaves an exception pending).
std::string toString(PyObject* object);
// str(object.name), or "" when there is no such attribute (the error is cleared).
std::string attributeText(PyObject* object, const char* name);
// repr(object), shortened to at most `limit` characters.
std::string toRepr(PyObject* object, std::size_t limit = 200);

}  // namespace psleak::py
