#pragma once
// The target as a Workload: the hot call loop (vectorcall, nothing allocated by psleak
// per call) and the cache clearing between runs.

#include <cstdint>
#include <string>
#include <vector>

#include "python/interpreter_functions.h"
#include "python/target.h"
#include "runner/memory_check.h"

namespace psleak::py {

class PythonWorkload : public Workload {
 public:
  // `target` (and `clearCallback`, a callable or null) must outlive the workload.
  explicit PythonWorkload(const ResolvedTarget& target, PyObject* clearCallback = nullptr);

  // Calls the target `times` times. Throws TargetError when a call raises an exception
  // that was not expected, or returns normally when one was.
  void call(std::int64_t times) override;

  // Flushes stdio, runs the clear callback, collects garbage, clears the type cache,
  // linecache and the path importer cache, so that what they hold is not taken for a leak.
  void clearCaches() override;

  // Total calls made so far (warm-up included).
  std::int64_t callsMade() const { return callsMade_; }

 private:
  [[noreturn]] void failCall();
  // Throws TargetError (after closing it) if the first call's result is a coroutine or
  // generator: an async def or generator function whose body the calls never run.
  void refuseUnrunBody(PyObject* result);
  std::string unrunBodyAdvice(const std::string& kind) const;

  const ResolvedTarget& target_;
  // Slot 0 is free for PY_VECTORCALL_ARGUMENTS_OFFSET; then positional, then keyword values.
  std::vector<PyObject*> vector_;
  std::size_t positionalCount_ = 0;
  std::int64_t callsMade_ = 0;

  PyObject* clearCallback_;
  const InterpreterFunctions& functions_;  // gc.collect and the cache clearers
};

}  // namespace psleak::py
