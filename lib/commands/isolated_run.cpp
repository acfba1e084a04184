#include "commands/isolated_run.h"

#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <optional>

#include "psleak/platform/child_process.h"
#include "psleak/platform/interrupt.h"
#include "report/json_report.h"

namespace psleak {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

// The child's side: the check as `psleak run` makes it, reported as JSON lines:
// {"run": ...} as each run ends, then {"report": ...}.
int checkInChild(const RunOptions& options, int writeFd) {
  const Report report = runCommand(options, [&](const RunDelta& run, const Assessment&) {
    platform::writeAll(writeFd, json{{"run", toJson(run)}}.dump() + "\n");
  });
  platform::writeAll(writeFd, json{{"report", toJson(report)}}.dump() + "\n");
  return static_cast<int>(report.verdict.exitCode());
}

// Where the child was when it stopped: "during run 3" or "before run 1 (...)".
std::string phase(const Report& report) {
  if (report.runs.empty()) return "before run 1 (warm-up, resource checks or import)";
  return fmt::format("during run {} (after {} complete run{})", report.runs.size() + 1,
                     report.runs.size(), report.runs.size() == 1 ? "" : "s");
}

}  // namespace

Report runIsolated(const RunOptions& options, const RunCallback& onRun, double timeoutSeconds) {
  const auto start = Clock::now();
  Report partial = describeRun(options);
  std::optional<Report> finished;

  platform::ChildProcess child = platform::ChildProcess::start(
      [&](int writeFd) { return checkInChild(options, writeFd); }, /*stdoutToStderr=*/true);

  std::string buffer;
  bool open = true;
  bool timedOut = false;
  bool interruptPassedOn = false;
  while (open) {
    int waitMs = -1;
    if (timeoutSeconds > 0) {
      const double left =
          timeoutSeconds - std::chrono::duration<double>(Clock::now() - start).count();
      if (left <= 0) {
        timedOut = true;
        child.sendSignal(SIGKILL);
        break;
      }
      waitMs = static_cast<int>(left * 1000) + 1;
    }
    if (platform::interruptRequested() && !interruptPassedOn) {
      child.sendSignal(SIGINT);  // the child stops between two calls and reports
      interruptPassedOn = true;
    }
    platform::waitReadable({child.readFd()}, waitMs);
    open = child.readAvailable(buffer);
    for (std::size_t end; (end = buffer.find('\n')) != std::string::npos; buffer.erase(0, end + 1)) {
      const json line = json::parse(buffer.substr(0, end), nullptr, /*allow_exceptions=*/false);
      if (line.is_discarded()) continue;
      if (line.contains("run")) {
        const RunDelta run = runFromJson(line["run"]);
        partial.runs.push_back(run);
        if (onRun) onRun(run, Assessment{});
      } else if (line.contains("report")) {
        finished = reportFromJson(line["report"]);
      }
    }
  }
  const platform::ExitStatus status = child.wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  if (finished) {
    finished->durationSeconds = seconds;
    return *finished;
  }
  partial.durationSeconds = seconds;
  if (timedOut) {
    partial.verdict = errorVerdict(
        "timeout", fmt::format("no verdict within --timeout {:g} s: the target hung or is too slow "
                               "{}; its process was killed",
                               timeoutSeconds, phase(partial)));
  } else if (!status.exited) {
    partial.verdict = errorVerdict(
        "crash", fmt::format("the target crashed: {} (signal {}) {}",
                             platform::signalName(status.signal), status.signal, phase(partial)));
  } else {
    partial.verdict = errorVerdict(
        "crash", fmt::format("the target ended its process with exit code {} {}, leaving no "
                             "report",
                             status.code, phase(partial)));
  }
  return partial;
}

}  // namespace psleak
