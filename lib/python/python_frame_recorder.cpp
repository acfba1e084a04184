#include "python/python_frame_recorder.h"

#include <pthread.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "psleak/platform/allocation_hooks_abi.h"
#include "python/python_error.h"

extern "C" {
// Weak, as in platform/linux/allocation_counters.cpp: absent outside the executable.
__attribute__((weak)) void psleak_hooks_set_python_frames_reader(PsleakPythonFramesReader);
}

namespace psleak::py {
namespace {

// The shadow stack: a ring indexed by depth, so that the innermost kShadowSize frames
// are always there however deep the recursion. Written by the profile function and read
// by the hooks, both on the recording thread only.
constexpr int kShadowSize = 256;
PyFrameObject* gShadowFrames[kShadowSize];
const void* gShadowCodes[kShadowSize];  // null: not kept alive (pin set full)
int gDepth = 0;
pthread_t gRecordingThread;
PyThreadState* gRecordingThreadState = nullptr;
std::atomic<bool> gRecording{false};
// What was installed before us, put back afterwards (a profiler, a coverage tool).
Py_tracefunc gPreviousProfile = nullptr;
PyObject* gPreviousProfileObject = nullptr;  // owned while saved

// Code objects kept alive: an open-addressing set of owned references, sized before
// recording starts so that the profile function never allocates for it.
constexpr std::size_t kPinCapacity = std::size_t{1} << 15;
std::vector<PyObject*> gPinned;
std::size_t gPinnedCount = 0;

// True if `code` is (now) in the set; consumes the reference either way.
bool pin(PyObject* code) {
  const std::size_t mask = gPinned.size() - 1;
  std::size_t i = (reinterpret_cast<std::uintptr_t>(code) >> 4) & mask;
  while (gPinned[i] != nullptr) {
    if (gPinned[i] == code) {
      Py_DECREF(code);  // already owned; the frame keeps this one alive meanwhile
      return true;
    }
    i = (i + 1) & mask;
  }
  if ((gPinnedCount + 1) * 4 > gPinned.size() * 3) {
    Py_DECREF(code);
    return false;
  }
  gPinned[i] = code;
  ++gPinnedCount;
  return true;
}

int onProfileEvent(PyObject*, PyFrameObject* frame, int what, PyObject*) {
  if (what == PyTrace_CALL) {
    PyObject* code = reinterpret_cast<PyObject*>(PyFrame_GetCode(frame));
    const int slot = gDepth % kShadowSize;
    gShadowCodes[slot] = pin(code) ? code : nullptr;
    gShadowFrames[slot] = frame;
    ++gDepth;
  } else if (what == PyTrace_RETURN) {
    // Frames entered before recording started return without having been pushed.
    if (gDepth > 0) --gDepth;
  }
  return 0;
}

// Called by the hooks inside malloc, on any thread: copies, allocates nothing.
int readShadowStack(PsleakPythonFrame* out, int max) {
  if (!gRecording.load(std::memory_order_acquire) || !pthread_equal(pthread_self(), gRecordingThread)) {
    return 0;
  }
  // Trust the shadow stack only while our profile function is the one installed: if the
  // target installed its own (sys.setprofile, cProfile), returns no longer reach us and
  // the frames on it may be gone.
  if (gRecordingThreadState->c_profilefunc != onProfileEvent) return 0;
  int count = 0;
  for (int depth = gDepth - 1; depth >= 0 && depth >= gDepth - kShadowSize && count < max; --depth) {
    const int slot = depth % kShadowSize;
    out[count].code = gShadowCodes[slot];
    out[count].line = PyFrame_GetLineNumber(gShadowFrames[slot]);
    ++count;
  }
  return count;
}

}  // namespace

PythonFrameRecorder::PythonFrameRecorder() {
  if (gRecording.load()) throw std::logic_error("PythonFrameRecorder: one recorder at a time");
  gPinned.assign(kPinCapacity, nullptr);
  gPinnedCount = 0;
  gDepth = 0;
  gRecordingThread = pthread_self();
  PyThreadState* thread = PyThreadState_Get();
  gRecordingThreadState = thread;
  gPreviousProfile = thread->c_profilefunc;
  gPreviousProfileObject = thread->c_profileobj;
  Py_XINCREF(gPreviousProfileObject);
  PyEval_SetProfile(onProfileEvent, nullptr);
  gRecording.store(true, std::memory_order_release);
  if (psleak_hooks_set_python_frames_reader != nullptr) psleak_hooks_set_python_frames_reader(readShadowStack);
}

void PythonFrameRecorder::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (psleak_hooks_set_python_frames_reader != nullptr) psleak_hooks_set_python_frames_reader(nullptr);
  gRecording.store(false, std::memory_order_release);
  // Put the previous profile function back, unless the target installed another since:
  // that one stays.
  if (gRecordingThreadState->c_profilefunc == onProfileEvent) {
    PyEval_SetProfile(gPreviousProfile, gPreviousProfileObject);
  }
  gPreviousProfile = nullptr;
  Py_CLEAR(gPreviousProfileObject);
}

PythonFrameRecorder::~PythonFrameRecorder() {
  stop();
  for (PyObject*& code : gPinned) Py_CLEAR(code);
  gPinned.clear();
  gPinned.shrink_to_fit();
  gPinnedCount = 0;
}

TraceFrame PythonFrameRecorder::describeFrame(const void* code, int line) const {
  TraceFrame frame;
  frame.line = line;
  if (code == nullptr) {
    frame.function = "??";
    return frame;
  }
  auto* object = const_cast<PyObject*>(static_cast<const PyObject*>(code));
  frame.file = attributeText(object, "co_filename");
  frame.function = attributeText(object, "co_qualname");  // 3.11+
  if (frame.function.empty()) frame.function = attributeText(object, "co_name");
  return frame;
}

}  // namespace psleak::py
