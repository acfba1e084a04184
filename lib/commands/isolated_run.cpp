#include "commands/isolated_run.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>

#include "psleak/platform/interrupt.h"
#include "report/json_report.h"

namespace psleak {
namespace {

using json = nlohmann::ordered_json;

// The child's side: the check as `psleak run` makes it, reported as JSON lines.
int checkInChild(const RunOptions& options, int writeFd) {
  const Report report = runCommand(options, [&](const RunDelta& run, const Assessment&) {
    platform::writeAll(writeFd, jsonText(json{{"run", toJson(run)}}) + "\n");
  });
  platform::writeAll(writeFd, jsonText(json{{"report", toJson(report)}}) + "\n");
  return static_cast<int>(report.verdict.exitCode());
}

// Where the child was when it stopped: "during run 3 (...)" or "before run 1 (...)".
std::string phase(const Report& report) {
  if (report.runs.empty()) return "before run 1 (import, warm-up or resource checks)";
  return fmt::format("during run {} (after {} complete run{})", report.runs.size() + 1,
                     report.runs.size(), report.runs.size() == 1 ? "" : "s");
}

}  // namespace

IsolatedCheck::IsolatedCheck(const RunOptions& options, double timeoutSeconds)
    : partial_(describeRun(options)),
      child_(platform::ChildProcess::start(
          [&options](int writeFd) { return checkInChild(options, writeFd); },
          /*stdoutToStderr=*/true)),
      start_(Clock::now()),
      timeoutSeconds_(timeoutSeconds) {}

int IsolatedCheck::millisecondsLeft() const {
  double left = -1;
  if (timeoutSeconds_ > 0) {
    left = timeoutSeconds_ - std::chrono::duration<double>(Clock::now() - start_).count();
  }
  if (interrupted_) {
    const double grace =
        kInterruptGraceSeconds - std::chrono::duration<double>(Clock::now() - interruptedAt_).count();
    left = left < 0 ? grace : std::min(left, grace);
  }
  if (left < 0 && timeoutSeconds_ <= 0 && !interrupted_) return -1;
  return left <= 0 ? 0 : static_cast<int>(left * 1000) + 1;
}

void IsolatedCheck::interrupt() {
  if (interrupted_) return;
  interrupted_ = true;
  interruptedAt_ = Clock::now();
  child_.sendSignal(SIGINT);  // the child stops between two calls and reports
}

bool IsolatedCheck::pump(const RunCallback& onRun) {
  if (millisecondsLeft() == 0) {
    if (interrupted_) {
      killedAfterInterrupt_ = true;
    } else {
      timedOut_ = true;
    }
    child_.sendSignal(SIGKILL);
    return false;
  }
  const bool open = child_.readAvailable(buffer_);
  for (std::size_t end; (end = buffer_.find('\n')) != std::string::npos; buffer_.erase(0, end + 1)) {
    const json line = json::parse(buffer_.substr(0, end), nullptr, /*allow_exceptions=*/false);
    if (line.is_discarded()) continue;
    if (line.contains("run")) {
      const RunDelta run = runFromJson(line["run"]);
      partial_.runs.push_back(run);
      if (onRun) onRun(run, Assessment{});
    } else if (line.contains("report")) {
      finished_ = reportFromJson(line["report"]);
    }
  }
  return open;
}

Report IsolatedCheck::finish() {
  const platform::ExitStatus status = child_.wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  if (finished_) {
    finished_->durationSeconds = seconds;
    return *finished_;
  }
  Report report = partial_;
  report.durationSeconds = seconds;
  if (killedAfterInterrupt_) {
    report.verdict = errorVerdict(
        "interrupted", fmt::format("stopped by Ctrl-C; the target did not stop within {:g} s "
                                   "{} and its process was killed",
                                   kInterruptGraceSeconds, phase(report)));
  } else if (timedOut_) {
    report.verdict = errorVerdict(
        "timeout", fmt::format("no verdict within --timeout {:g} s: the target hung or is too "
                               "slow {}; its process was killed",
                               timeoutSeconds_, phase(report)));
  } else if (!status.exited) {
    report.verdict = errorVerdict(
        "crash", fmt::format("the target crashed: {} (signal {}) {}",
                             platform::signalName(status.signal), status.signal, phase(report)));
  } else {
    report.verdict = errorVerdict(
        "crash", fmt::format("the target ended its process with exit code {} {}, leaving no "
                             "report",
                             status.code, phase(report)));
  }
  return report;
}

Report runIsolated(const RunOptions& options, const RunCallback& onRun, double timeoutSeconds) {
  IsolatedCheck check(options, timeoutSeconds);
  while (true) {
    if (platform::interruptRequested()) check.interrupt();
    platform::waitReadable({check.fd()}, check.millisecondsLeft());
    if (!check.pump(onRun)) break;
  }
  return check.finish();
}

}  // namespace psleak
