#pragma once
// The target as a Workload: the hot call loop (vectorcall, nothing allocated by psleak
// per call) and the cache clearing between runs.

#include <cstdint>
#include <vector>

#include "psleak/platform/fork_watch.h"
#include "python/target.h"
#include "runner/memory_check.h"

namespace psleak::py {

// Flushes Python's sys.stdout and sys.stderr and the C library's streams: what target
// code printed reaches its destination before psleak reports, and before a fork.
void flushStdio();

class PythonWorkload : public Workload {
 public:
  // `target` (and `clearCallback`, a callable or null) must outlive the workload.
  explicit PythonWorkload(const ResolvedTarget& target, PyObject* clearCallback = nullptr);

  // Calls the target `times` times. Throws TargetError when a call raises an exception
  // that was not expected, or returns normally when one was; Interrupted on Ctrl-C or
  // SIGTERM (or a KeyboardInterrupt from a handler the target put in place of psleak's).
  // In a child process that the target forked, this never returns: the child ends at
  // once (see platform::ForkWatch). After the calls, puts back psleak's SIGINT/SIGTERM
  // handler if the target replaced it (with a warning, once).
  void call(std::int64_t times) override;

  // Flushes stdio, runs the clear callback, collects garbage, clears the type cache,
  // linecache and the path importer cache, so that what they hold is not taken for a leak.
  // Like call(), ends a child the target forked (a finalizer may fork).
  void clearCaches() override;

  // Total calls made so far (warm-up included).
  std::int64_t callsMade() const { return callsMade_; }

 private:
  [[noreturn]] void failCall();
  // After target code ran: leaves a forked child, puts back the stop handlers.
  void afterTargetCode();

  const ResolvedTarget& target_;
  // Slot 0 is free for PY_VECTORCALL_ARGUMENTS_OFFSET; then positional, then keyword values.
  std::vector<PyObject*> vector_;
  std::size_t positionalCount_ = 0;
  std::int64_t callsMade_ = 0;
  platform::ForkWatch forkWatch_;

  PyObject* clearCallback_;
  PyRef gcCollect_;
  PyRef clearTypeCache_;
  PyRef clearLineCache_;
};

}  // namespace psleak::py
