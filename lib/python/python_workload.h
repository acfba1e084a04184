#pragma once
// The target as a Workload: the hot call loop (vectorcall, nothing allocated by psleak
// per call) and the cache clearing between runs.

#include <cstdint>
#include <string>
#include <vector>

#include "python/interpreter_functions.h"
#include "psleak/platform/fork_watch.h"
#include "python/target.h"
#include "runner/memory_check.h"

namespace psleak::py {

// How the Python module's MemoryLeakTestCase has the target called; `psleak run` keeps
// the defaults (the target called directly, its exceptions turned into text).
struct CallRouting {
  // A subclass's own call(self, fun), bound to the test case, and the target with its
  // arguments bound (a functools.partial): every call is then `via(bound)`. Both null,
  // or both set and outliving the workload.
  PyObject* via = nullptr;
  PyObject* bound = nullptr;
  // Keep what a call raises (TargetRaised), so that it can be raised again unchanged.
  bool keepExceptions = false;
};
// Flushes Python's sys.stdout and sys.stderr and the C library's streams: what target
// code printed reaches its destination before psleak reports, and before a fork.
void flushStdio();

class PythonWorkload : public Workload {
 public:
  // `target` (and `clearCallback`, a callable or null) must outlive the workload.
  explicit PythonWorkload(const ResolvedTarget& target, PyObject* clearCallback = nullptr,
                          const CallRouting& routing = {});

  // Calls the target `times` times. Throws TargetError when a call raises an exception
  // that was not expected, or returns normally when one was; Interrupted on Ctrl-C or
  // SIGTERM (or a KeyboardInterrupt from a handler the target put in place of psleak's).
  // In a child process that the target forked, this never returns: the child ends at
  // once (see platform::ForkWatch). After the calls, puts back psleak's SIGINT/SIGTERM
  // handler if the target replaced it (with a warning, once).
  void call(std::int64_t times) override;

  // Lets other Python threads catch up with work handed to them, flushes stdio, runs the
  // clear callback, collects garbage, clears the type cache, linecache and the path
  // importer cache, so that what they hold is not taken for a leak.
  // Like call(), ends a child the target forked (a finalizer may fork).
  void clearCaches() override;

  // Total calls made so far (warm-up included).
  std::int64_t callsMade() const { return callsMade_; }

 private:
  [[noreturn]] void fail(const std::string& context) const;
  // Throws TargetError (after closing it) if the first call's result is a coroutine or
  // generator: an async def or generator function whose body the calls never run.
  void refuseUnrunBody(PyObject* result);
  std::string unrunBodyAdvice(const std::string& kind) const;
  // After target code ran: leaves a forked child, puts back the stop handlers.
  void afterTargetCode();

  const ResolvedTarget& target_;
  // Slot 0 is free for PY_VECTORCALL_ARGUMENTS_OFFSET; then positional, then keyword values
  // (the target's own, or the one argument of `via`).
  std::vector<PyObject*> vector_;
  // What each call is: callable_(vector_[1:], nargsf_, keywordNames_).
  PyObject* callable_ = nullptr;
  std::size_t nargsf_ = 0;
  PyObject* keywordNames_ = nullptr;
  bool keepExceptions_ = false;
  std::int64_t callsMade_ = 0;
  platform::ForkWatch forkWatch_;

  PyObject* clearCallback_;
  const InterpreterFunctions& functions_;  // gc.collect and the cache clearers
};

}  // namespace psleak::py
