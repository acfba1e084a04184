#pragma once
// Pure judgements of resource snapshots taken around one call (and of reference counts
// taken around batches of calls). Snapshots come from platform/ and lib/python/.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "checks/finding.h"
#include "psleak/platform/native_threads.h"
#include "psleak/platform/open_fds.h"

namespace psleak {

// Descriptors open after the call that were not before (a leak), and ones closed by it
// (a warning). A descriptor number reused for another file counts as both.
std::vector<Finding> compareFds(const std::vector<platform::OpenFd>& before,
                                const std::vector<platform::OpenFd>& after);

// Native threads running after the call that were not before. Threads in
// `pythonThreadIds` belong to Python threads and are judged by comparePythonThreads.
std::vector<Finding> compareNativeThreads(const std::vector<platform::NativeThread>& before,
                                          const std::vector<platform::NativeThread>& after,
                                          const std::set<int>& pythonThreadIds);

struct PythonThreadInfo {
  unsigned long ident = 0;
  long nativeId = 0;
  std::string description;  // repr(thread)
};

// Python threads alive after the call that were not before.
std::vector<Finding> comparePythonThreads(const std::vector<PythonThreadInfo>& before,
                                          const std::vector<PythonThreadInfo>& after);

struct GarbageObject {
  std::string typeName;  // "leakfix_py.Node"
  std::string repr;      // shortened repr
};

// Objects a call left in reference cycles (frames, tracebacks and exceptions already
// filtered out by the probe).
// A failure (Severity::Leak) when `strict`, else a warning that says how to make it one.
std::vector<Finding> judgeGarbage(const std::vector<GarbageObject>& garbage, bool strict);

// Reference counts of one object read before and after two batches of calls.
struct RefcountSeries {
  std::string name;  // "argument 1 ([])", "None", "total (sys.gettotalrefcount)"
  std::int64_t start = 0;
  std::int64_t afterFirst = 0;
  std::int64_t afterSecond = 0;
};

// A count that rose in both batches, and more in the larger second batch, grows with the
// calls: a leak, reported with references gained per call. One that fell in both is a
// warning. `firstCalls` < `secondCalls`.
std::vector<Finding> judgeRefcounts(const std::vector<RefcountSeries>& series,
                                    std::int64_t firstCalls, std::int64_t secondCalls);

// Open descriptors counted before runs of growing calls and after each of them
// (`counts` has one entry more than `calls`; psleak gives three runs). A count that
// rose in each run, and more in each larger one, grows with the calls: a leak of
// descriptors left by some calls only (one call in 20, say), which the check around one
// call can miss. Reported with the descriptors open in `after` that were not in
// `before` (listed before the first run and after the last).
std::vector<Finding> judgeDescriptorsOverRuns(const std::vector<std::int64_t>& counts,
                                              const std::vector<std::int64_t>& calls,
                                              const std::vector<platform::OpenFd>& before,
                                              const std::vector<platform::OpenFd>& after);

}  // namespace psleak
