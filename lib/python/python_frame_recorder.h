#pragma once
// The Python half of `--trace` stacks: while a PythonFrameRecorder lives, the thread
// that made it keeps a shadow stack of its executing Python frames (kept by a profile
// function, PyEval_SetProfile), and the allocator hooks copy the innermost frames of it
// -- code object and current line -- into every allocation they trace on that thread.
// Reading the shadow stack allocates nothing, which the hooks require; the interpreter's
// own frame API may allocate (it creates frame objects on demand), so it cannot be used
// from inside malloc.
//
// Code objects seen are kept alive until the recorder goes, so that the recorded
// pointers can still be described after the traced run.

#include <string>

#include "report/trace_report.h"
#include "runner/allocation_trace.h"

namespace psleak::py {

class PythonFrameRecorder : public PythonFrameRecording {
 public:
  // Installs the profile function on the calling thread (which holds the GIL) in place
  // of any other, and registers the reader with the hooks. One recorder at a time.
  PythonFrameRecorder();
  // Unregisters the reader, restores the previous profile function and releases the
  // code objects.
  ~PythonFrameRecorder() override;
  PythonFrameRecorder(const PythonFrameRecorder&) = delete;
  PythonFrameRecorder& operator=(const PythonFrameRecorder&) = delete;

  // Stops recording (before the trace is drained); the code objects stay alive.
  void stop() override;

  // file, line and qualified function name of a recorded frame (GIL held).
  TraceFrame describeFrame(const void* code, int line) const override;

 private:
  bool stopped_ = false;
};

}  // namespace psleak::py
