#include "commands/isolated_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include "psleak/platform/interrupt.h"
#include "report/format.h"
#include "report/json_report.h"

namespace psleak {
namespace {

using json = nlohmann::ordered_json;

// The child's side of a progress line: each step, and the calls done at most every
// kProgressMessageInterval, as {"progress": ...} lines to the parent. Told between calls
// inside the measured window: formatted on the stack, written with write(2).
class ProgressToParent : public Progress {
 public:
  explicit ProgressToParent(int fd) : fd_(fd) {}

  void step(const char* name, int run, std::int64_t total, const char* unit) noexcept override {
    char cleanName[48], cleanUnit[16];
    copyStepText(cleanName, sizeof cleanName, name);
    copyStepText(cleanUnit, sizeof cleanUnit, unit);
    char line[160];
    const int n = std::snprintf(line, sizeof line,
                                "{\"progress\":{\"step\":\"%s\",\"run\":%d,\"total\":%lld,\"unit\":\"%s\"}}\n",
                                cleanName, run, static_cast<long long>(total), cleanUnit);
    send(line, n);
    total_ = total;
  }

  void advance(std::int64_t done) noexcept override {
    const auto now = std::chrono::steady_clock::now();
    if (now - lastSent_ < kProgressMessageInterval && !(total_ > 0 && done >= total_)) return;
    char line[64];
    const int n = std::snprintf(line, sizeof line, "{\"progress\":{\"done\":%lld}}\n",
                                static_cast<long long>(done));
    send(line, n);
  }

 private:
  static constexpr auto kProgressMessageInterval = std::chrono::milliseconds(100);

  void send(const char* line, int length) noexcept {
    if (length <= 0) return;
    // Shorter than PIPE_BUF: one write, never interleaved with another line.
    const ssize_t written = ::write(fd_, line, static_cast<std::size_t>(length));
    (void)written;  // a parent that went away ends the child otherwise
    lastSent_ = std::chrono::steady_clock::now();
  }

  int fd_;
  std::int64_t total_ = 0;
  std::chrono::steady_clock::time_point lastSent_{};
};

// The child's side: the check as `psleak run` makes it, reported as JSON lines.
int checkInChild(RunOptions options, int writeFd) {
  std::optional<ProgressToParent> progress;
  if (options.progress) options.progress = &progress.emplace(writeFd);
  const Report report = runCommand(
      options,
      [&](const RunDelta& run, const Assessment&) {
        platform::writeAll(writeFd, jsonText(json{{"run", toJson(run)}}) + "\n");
      },
      [&](const std::string& where) {
        platform::writeAll(writeFd, jsonText(json{{"phase", where}}) + "\n");
      });
  platform::writeAll(writeFd, jsonText(json{{"report", toJson(report)}}) + "\n");
  return static_cast<int>(report.verdict.exitCode());
}

// Without a descriptor that tells when the child ended, poll this often.
constexpr int kExitPollMilliseconds = 200;
// How long a child whose pipe closed without a report may take to end by itself (it
// normally is ending: the pipe closes as it exits).
constexpr int kClosedPipeGraceMs = 2000;

}  // namespace

IsolatedCheck::IsolatedCheck(const RunOptions& options, double timeoutSeconds)
    : partial_(describeRun(options)),
      progress_(options.progress),
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

std::vector<int> IsolatedCheck::fds() const {
  std::vector<int> fds = {child_.readFd()};
  if (child_.exitFd() >= 0) fds.push_back(child_.exitFd());
  return fds;
}

int IsolatedCheck::pollMilliseconds() const {
  const int left = millisecondsLeft();
  if (child_.exitFd() >= 0) return left;
  return left < 0 ? kExitPollMilliseconds : std::min(left, kExitPollMilliseconds);
}

void IsolatedCheck::interrupt() {
  if (interrupted_) return;
  interrupted_ = true;
  interruptedAt_ = Clock::now();
  // The child stops between two calls and reports.
  child_.sendSignal(platform::terminationRequested() ? SIGTERM : SIGINT);
}

void IsolatedCheck::readLines(const RunCallback& onRun) {
  for (std::size_t end; (end = buffer_.find('\n')) != std::string::npos; buffer_.erase(0, end + 1)) {
    const json line = json::parse(buffer_.substr(0, end), nullptr, /*allow_exceptions=*/false);
    if (line.is_discarded() || !line.is_object()) continue;
    if (line.contains("run")) {
      const RunDelta run = runFromJson(line["run"]);
      partial_.runs.push_back(run);
      if (onRun) onRun(run, Assessment{});
    } else if (line.contains("progress") && line["progress"].is_object()) {
      showProgress(line["progress"]);
    } else if (line.contains("phase") && line["phase"].is_string()) {
      phase_ = line["phase"].get<std::string>();
    } else if (line.contains("report")) {
      finished_ = reportFromJson(line["report"]);
    }
  }
}

void IsolatedCheck::showProgress(const json& progress) {
  if (!progress_) return;
  if (progress.contains("step")) {
    progress_->step(progress.value("step", "").c_str(), progress.value("run", 0),
                    progress.value("total", std::int64_t{0}), progress.value("unit", "calls").c_str());
  } else if (progress.contains("done")) {
    progress_->advance(progress.value("done", std::int64_t{0}));
  }
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
  readLines(onRun);
  if (finished_ || !open) return false;
  if (child_.hasExited()) {
    // Everything the child wrote is in the pipe by now; a helper process it left behind
    // may keep the pipe open, so end-of-file would never come.
    child_.readAvailable(buffer_);
    readLines(onRun);
    return false;
  }
  return true;
}

Report IsolatedCheck::finish() {
  // Once the child has ended (it writes its report last), what is left of its process
  // group is the target's. A child that closed its pipe without a report (the target
  // closed the descriptor) has no way left to report: it gets a moment, then is killed.
  if (!child_.waitForExit(finished_ ? -1 : kClosedPipeGraceMs)) {
    child_.sendSignal(SIGKILL);
    child_.waitForExit(-1);
  }
  {
    std::vector<std::string> helpers = child_.killProcessGroup();
    if (!helpers.empty()) {
      constexpr std::size_t kNamed = 5;
      const std::size_t count = helpers.size();
      if (count > kNamed) {
        helpers.resize(kNamed);
        helpers.push_back(fmt::format("and {} more", count - kNamed));
      }
      spdlog::warn("{}: the target left {} process{} running ({}); killed with its check's "
                   "process group",
                   targetName(partial_), count, count == 1 ? "" : "es", fmt::join(helpers, ", "));
    }
  }
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
        platform::terminationRequested() ? "terminated" : "interrupted",
        fmt::format("stopped by {}; the target did not stop within {:g} s {} and its process "
                    "was killed",
                    platform::interruptName(), kInterruptGraceSeconds, phase_));
  } else if (timedOut_) {
    report.verdict = errorVerdict(
        "timeout", fmt::format("no verdict within --timeout {:g} s: the target hung or is too "
                               "slow {}; its process was killed",
                               timeoutSeconds_, phase_));
  } else if (!status.exited) {
    report.verdict = errorVerdict(
        "crash", fmt::format("the target crashed: {} (signal {}) {}",
                             platform::signalName(status.signal), status.signal, phase_));
  } else {
    report.verdict = errorVerdict(
        "crash", fmt::format("the target ended its process with exit code {} {}, leaving no "
                             "report",
                             status.code, phase_));
  }
  return report;
}

Report runIsolated(const RunOptions& options, const RunCallback& onRun, double timeoutSeconds) {
  IsolatedCheck check(options, timeoutSeconds);
  while (true) {
    if (platform::interruptRequested()) check.interrupt();
    platform::waitReadable(check.fds(), check.pollMilliseconds());
    if (!check.pump(onRun)) break;
  }
  return check.finish();
}

}  // namespace psleak
