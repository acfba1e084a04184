#pragma once
// GilReleased: lets other Python threads run for its lifetime (Py_BEGIN/END_ALLOW_THREADS
// as a scope). psleak holds the GIL whenever it runs Python; it releases it wherever it
// waits for something another thread may need the GIL to do, such as a new thread that
// has to run Python code before it can end.

#define PY_SSIZE_T_CLEAN
#include <Python.h>

namespace psleak::py {

class GilReleased {
 public:
  GilReleased() : state_(PyEval_SaveThread()) {}
  ~GilReleased() { PyEval_RestoreThread(state_); }
  GilReleased(const GilReleased&) = delete;
  GilReleased& operator=(const GilReleased&) = delete;

 private:
  PyThreadState* state_;
};

}  // namespace psleak::py
