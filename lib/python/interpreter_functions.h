#pragma once
// The interpreter's functions that psleak's checks call, looked up once, before any
// target code runs. A target that replaces gc.collect or threading.enumerate (on
// purpose, or by monkeypatching for its own tests) cannot change what psleak sees:
// psleak calls the functions it took at start-up. (Reference counts are read with
// Py_REFCNT, never through sys.getrefcount.) traceback.format_exception, which only
// formats a target's error, is imported when first needed (formatExceptionFunction).

#include "python/py_ref.h"

namespace psleak::py {

struct InterpreterFunctions {
  PyRef gcCollect;           // gc.collect
  PyRef gcGetDebug;          // gc.get_debug
  PyRef gcSetDebug;          // gc.set_debug
  PyRef gcGarbage;           // the gc.garbage list itself: rebinding the name leaves gc's own
  long gcDebugSaveAll = 0;   // gc.DEBUG_SAVEALL
  PyRef threadingEnumerate;  // threading.enumerate
  PyRef clearTypeCache;      // sys._clear_type_cache
  PyRef getTotalRefcount;    // sys.gettotalrefcount on debug builds; empty otherwise
  PyRef startupPath;         // sys.path as it was at the look-up, as a tuple
};

// The functions, looked up on the first call (with the GIL held) and the same ones on
// every later call. The first call belongs right after the interpreter starts, before
// the working directory goes on sys.path and before any target code runs (Interpreter
// and the psleak module's initialisation make it). Throws InternalError if one is
// missing.
const InterpreterFunctions& interpreterFunctions();

// The functions if they have been looked up already, else null (for error reporting,
// which must not start the lookup itself).
const InterpreterFunctions* interpreterFunctionsIfLookedUp();

// traceback.format_exception (borrowed), loaded on the first call: a check whose target
// raises nothing unexpected never pays for traceback and the tokenize and re it imports
// (several milliseconds of every process). It comes from a private copy of the standard
// library's traceback module, so a program that replaced traceback.format_exception
// cannot change it either, and is loaded with sys.path as it was at the look-up, so a
// traceback.py or tokenize.py in the working directory cannot stand in for the standard
// library's. Null, with no Python error set, before interpreterFunctions() or if the
// loading fails.
PyObject* formatExceptionFunction();

}  // namespace psleak::py
