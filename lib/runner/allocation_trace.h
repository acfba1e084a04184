#pragma once
// `--trace`: one extra run with allocation stacks recorded by psleak's hooks; what is
// still live at its end, grouped by call stack, is where the memory goes.

#include <cstdint>
#include <functional>
#include <memory>

#include "report/trace_report.h"
#include "runner/memory_check.h"
#include "runner/progress.h"

namespace psleak {

inline constexpr std::size_t kTraceCapacity = std::size_t{1} << 18;

// The Python half of each traced stack, kept by the interpreter's side
// (py::PythonFrameRecorder): the runner sees Python frames through this, as it sees the
// calls through Workload, and knows nothing of Python itself. Recording runs from the
// object's making (its maker installs whatever it needs) to its destruction.
class PythonFrameRecording {
 public:
  virtual ~PythonFrameRecording() = default;
  // After the calls, before the trace is drained; what was recorded can still be
  // described until the object goes.
  virtual void stop() = 0;
  virtual TraceFrame describeFrame(const void* code, int line) const = 0;
};
using PythonFrameRecordingMaker = std::function<std::unique_ptr<PythonFrameRecording>()>;

// Clears caches, calls the workload `calls` times with stacks recorded (Python frames by
// a recording `recordPythonFrames` makes), clears caches again, and returns the `top`
// sites holding the most live bytes. Throws InternalError when the hooks are absent (not
// the psleak executable, or PSLEAK_NO_HOOKS) or the trace table cannot be mapped.
// `progress` (optional) is told when symbolization starts.
TraceReport traceLiveAllocations(Workload& workload, const PythonFrameRecordingMaker& recordPythonFrames,
                                 std::int64_t calls, std::size_t top, Progress* progress = nullptr);

}  // namespace psleak
