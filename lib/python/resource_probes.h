#pragma once
// Snapshots only the interpreter can give: its threads, the garbage a call leaves in
// reference cycles, reference counts of the objects a call touches.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "checks/resource_diff.h"
#include "python/target.h"

namespace psleak::py {

// threading.enumerate(), as ident / native id / repr.
std::vector<PythonThreadInfo> listPythonThreads();

// Collects garbage, then runs `call` with gc.DEBUG_SAVEALL so that whatever the call
// leaves in reference cycles is kept in gc.garbage instead of freed; returns those
// objects (frames, tracebacks and exceptions excluded: a raised exception makes such
// cycles by design), and restores gc's flags and gc.garbage even if `call` throws.
std::vector<GarbageObject> garbageLeftBy(const std::function<void()>& call);

// The reference counts psleak watches: the callable, every argument, None/True/False,
// and sys.gettotalrefcount() on debug builds.
class RefcountProbe {
 public:
  explicit RefcountProbe(const ResolvedTarget& target);
  const std::vector<std::string>& names() const { return names_; }
  std::vector<std::int64_t> read() const;

 private:
  // Adds `object` unless it is immortal (3.12+), whose count says nothing.
  void watch(PyObject* object, std::string name);

  std::vector<PyObject*> objects_;  // borrowed: the target and the singletons outlive the probe
  std::vector<std::string> names_;
  PyObject* totalRefcount_ = nullptr;  // sys.gettotalrefcount, debug builds only (kept alive
                                       // by interpreterFunctions())
};

}  // namespace psleak::py
