#include "python/target.h"

#include "core/errors.h"
#include "python/python_error.h"

namespace psleak::py {
namespace {


// Compiles `code` (mode Py_file_input or Py_eval_input); a syntax error is a usage error
// naming the option it came from.
PyRef compileUserCode(const std::string& code, int mode, const std::string& option) {
  PyRef compiled = PyRef::steal(Py_CompileString(code.c_str(), ("<" + option + ">").c_str(), mode));
  if (!compiled) {
    const PythonException error = fetchException();
    throw UsageError(option + " '" + code + "': " + error.summary());
  }
  return compiled;
}

PyRef newNamespace() {
  PyRef globals = PyRef::steal(PyDict_New());
  PyRef name = PyRef::steal(PyUnicode_FromString("__psleak__"));
  if (!globals || !name ||
      PyDict_SetItemString(globals.get(), "__builtins__", PyEval_GetBuiltins()) != 0 ||
      PyDict_SetItemString(globals.get(), "__name__", name.get()) != 0) {
    throwInternalError("cannot create the namespace for --setup and --args");
  }
  return globals;
}

void runSetup(const std::vector<std::string>& setup, PyObject* globals) {
  for (const std::string& code : setup) {
    PyRef compiled = compileUserCode(code, Py_file_input, "--setup");
    PyRef result = PyRef::steal(PyEval_EvalCode(compiled.get(), globals, globals));
    if (!result) throwTargetError("--setup '" + code + "' raised");
  }
}

PyRef evaluate(const std::string& expression, PyObject* globals, const std::string& option) {
  PyRef compiled = compileUserCode(expression, Py_eval_input, option);
  PyRef value = PyRef::steal(PyEval_EvalCode(compiled.get(), globals, globals));
  if (!value) {
    const PythonException error = fetchException();
    throw UsageError(option + " '" + expression + "' failed: " + error.summary());
  }
  return value;
}

PyRef importTarget(const TargetSpec& spec) {
  PyRef object = PyRef::steal(PyImport_ImportModule(spec.module.c_str()));
  if (!object) {
    if (PyErr_ExceptionMatches(PyExc_ModuleNotFoundError)) {
      const PythonException error = fetchException();
      throw TargetError("cannot import module '" + spec.module + "' of target '" + spec.text +
                        "': " + error.summary());
    }
    throwTargetError("importing module '" + spec.module + "' of target '" + spec.text + "' raised");
  }
  std::string reached = spec.module;
  for (const std::string& name : spec.attrPath) {
    PyRef next = PyRef::steal(PyObject_GetAttrString(object.get(), name.c_str()));
    if (!next) {
      if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        throw TargetError("target '" + spec.text + "': '" + reached + "' has no attribute '" +
                          name + "'");
      }
      throwTargetError("target '" + spec.text + "': getting attribute '" + name + "' raised");
    }
    reached += "." + name;
    object = std::move(next);
  }
  if (!PyCallable_Check(object.get())) {
    throw TargetError("target '" + spec.text + "' is not callable (its type is " +
                      Py_TYPE(object.get())->tp_name + ")");
  }
  return object;
}

// -e STMT becomes the body of a function, as `python -m timeit` does, so the call loop
// can call it like any target. The statement is compiled alone first, so that a syntax
// error names its own line, and the function's first line is set back by one, so that
// tracebacks do too.
PyRef compileExpression(const std::string& statement, PyObject* globals) {
  compileUserCode(statement, Py_file_input, "--expr");
  std::string body = "def __psleak_expr__():\n";
  std::size_t start = 0;
  while (start <= statement.size()) {
    const std::size_t end = statement.find('\n', start);
    body += "    " + statement.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  body +=
      "__psleak_expr__.__code__ = __psleak_expr__.__code__.replace(\n"
      "    co_firstlineno=__psleak_expr__.__code__.co_firstlineno - 1)\n";
  PyRef compiled = PyRef::steal(Py_CompileString(body.c_str(), "<--expr>", Py_file_input));
  if (!compiled) {
    const PythonException error = fetchException();
    throw UsageError("--expr '" + statement + "': " + error.summary());
  }
  PyRef result = PyRef::steal(PyEval_EvalCode(compiled.get(), globals, globals));
  if (!result) throwInternalError("defining the --expr function");
  return PyRef::borrow(PyDict_GetItemString(globals, "__psleak_expr__"));
}

PyRef resolveException(const std::string& name, PyObject* globals) {
  PyRef value = PyRef::steal(PyRun_String(name.c_str(), Py_eval_input, globals, globals));
  if (!value) {
    PyErr_Clear();
    throw UsageError("--expect-exception '" + name + "': no such exception (e.g. ValueError, or "
                     "module.Error after -s 'import module')");
  }
  if (!PyExceptionClass_Check(value.get())) {
    throw UsageError("--expect-exception '" + name + "' is not an exception class");
  }
  return value;
}

}  // namespace

ResolvedTarget resolveTarget(const TargetRequest& request) {
  ResolvedTarget target;
  target.namespaceDict = newNamespace();
  PyObject* globals = target.namespaceDict.get();

  runSetup(request.setup, globals);

  if (request.spec) {
    target.callable = importTarget(*request.spec);
    target.description = request.spec->text;
    target.spec = request.spec;
  } else {
    target.callable = compileExpression(request.expression, globals);
    target.description = "-e " + request.expression;
  }

  for (const std::string& expression : request.args) {
    target.positional.push_back(evaluate(expression, globals, "--args"));
  }
  if (!request.kwargs.empty()) {
    target.keywordNames = PyRef::steal(PyTuple_New(static_cast<Py_ssize_t>(request.kwargs.size())));
    if (!target.keywordNames) throwInternalError("building keyword names");
    Py_ssize_t index = 0;
    for (const auto& [name, expression] : request.kwargs) {
      PyObject* key = PyUnicode_InternFromString(name.c_str());
      if (!key) throwInternalError("building keyword names");
      PyTuple_SET_ITEM(target.keywordNames.get(), index++, key);  // steals key
      target.keywordValues.push_back(evaluate(expression, globals, "--kwarg " + name));
    }
  }
  if (!request.expectException.empty()) {
    target.expectedException = resolveException(request.expectException, globals);
  }
  return target;
}

}  // namespace psleak::py
