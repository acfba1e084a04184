#pragma once
// The result model of a psleak command: what was checked, how, what each run measured,
// and the verdict. Renderers (table, JSON) read it; nothing here prints.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "detector/leak_detector.h"
#include "detector/metrics.h"

namespace psleak {

inline constexpr int kJsonSchemaVersion = 1;

enum class VerdictStatus { Clean, Leak, Error };

struct Verdict {
  VerdictStatus status = VerdictStatus::Error;
  // "memory" for a memory leak; "usage", "target" or "internal" for an error; empty when clean.
  std::string kind;
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

struct CheckSettingsDescription {
  std::int64_t warmup = 0;
  std::int64_t calls = 0;
  int retries = 0;
  Tolerance tolerance;
};

struct Report {
  std::string command = "run";
  std::optional<TargetDescription> target;
  std::optional<InterpreterDescription> interpreter;
  std::optional<PlatformDescription> platform;
  std::optional<CheckSettingsDescription> settings;
  std::vector<RunDelta> runs;
  Verdict verdict;
  double durationSeconds = 0.0;
};

// Verdicts, with their one-line messages.
Verdict cleanVerdict(const std::vector<RunDelta>& runs);
Verdict memoryLeakVerdict(const Assessment& assessment, bool rawBytes);
Verdict errorVerdict(const std::string& kind, const std::string& message,
                     const std::string& details = {});

}  // namespace psleak
