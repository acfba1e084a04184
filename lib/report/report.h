#pragma once
// The result model of a psleak command: what was checked, how, what each run measured,
// and the verdict. Renderers (table, JSON) read it; nothing here prints.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checks/finding.h"
#include "core/errors.h"
#include "detector/leak_detector.h"
#include "detector/metrics.h"
#include "report/trace_report.h"

namespace psleak {

inline constexpr int kJsonSchemaVersion = 1;

enum class VerdictStatus { Clean, Leak, Error };

struct Verdict {
  VerdictStatus status = VerdictStatus::Error;
  // The first kind that leaked ("memory", "fd", "thread", "pythread", "gc", "refcount"),
  // or for an error "usage", "target", "internal", "crash" (the target's process died of
  // a signal or ended it), "timeout" (it hung past --timeout), "interrupted" (Ctrl-C),
  // "terminated" (SIGTERM) or "output" (the report could not be written); empty when
  // clean.
  std::string kind;
  std::vector<std::string> kinds;  // every kind that leaked
  std::string message;   // one line
  std::string details;   // e.g. the target's Python traceback
  std::vector<MetricGrowth> growing;  // the metrics that kept growing (leaks)
  ExitCode exitCode() const;
};

struct TargetDescription {
  std::string spec;                 // "mod:func", empty with --expr
  std::string expression;           // --expr
  std::vector<std::string> setup;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> kwargs;
  std::string expectException;
};

struct InterpreterDescription {
  std::string version;
  std::string executable;
  std::string prefix;
  std::string allocator;
};

struct PlatformDescription {
  std::string system;
  std::string release;
  std::string machine;
  std::string libc;
};

// Whether psleak's allocation counters took part in the check; when the hooks are
// there but could not count, why (the check then measured as with --no-hooks).
struct HooksDescription {
  bool counting = false;
  std::string problem;
};

struct CheckSettingsDescription {
  std::int64_t warmup = 0;
  std::int64_t calls = 0;
  int retries = 0;
  Tolerance tolerance;
  std::vector<std::string> checks;  // the checks that were on
  HooksDescription hooks;
};

struct Report {
  std::string command = "run";
  std::optional<TargetDescription> target;
  std::optional<InterpreterDescription> interpreter;
  std::optional<PlatformDescription> platform;
  std::optional<CheckSettingsDescription> settings;
  std::vector<RunDelta> runs;
  std::vector<Finding> findings;  // resource leaks and warnings, in the order found
  std::optional<TraceReport> trace;  // --trace
  Verdict verdict;
  // Calls of the target the check made, warm-up and every check included; not known
  // when the check's process ended before it reported (a crash, a timeout).
  std::optional<std::int64_t> callsMade;
  double durationSeconds = 0.0;
};

// Verdicts, with their one-line messages.
Verdict cleanVerdict(const std::vector<RunDelta>& runs);
Verdict memoryLeakVerdict(const Assessment& assessment, bool rawBytes);
// A memory leak as a finding: "memory kept increasing after 10 runs (heap +1.0 KiB/call)".
Finding memoryLeakFinding(const Assessment& assessment, bool rawBytes);
// --max-growth stopped the check `where` ("in run 2", "before run 1, during the warm-up
// calls"): "memory grew past --max-growth 1.0 GiB in run 2 (rss +1.1 GiB); stopped there".
Finding growthLimitFinding(std::int64_t limit, const std::vector<MetricGrowth>& past,
                           const std::string& where, bool rawBytes);
// The verdict of a finished check: a leak if any finding is a leak (a memory leak is
// one, see memoryLeakFinding); every leaking kind is named. `memory` is the memory
// check's assessment when it ran.
Verdict composeVerdict(const std::optional<Assessment>& memory, const std::vector<RunDelta>& runs,
                       const std::vector<Finding>& findings);
Verdict errorVerdict(const std::string& kind, const std::string& message,
                     const std::string& details = {});

}  // namespace psleak
