#include "checks/resource_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace psleak {
namespace {

std::string plural(std::size_t count, const char* one, const char* many) {
  return fmt::format("{} {}", count, count == 1 ? one : many);
}

bool containsFd(const std::vector<platform::OpenFd>& fds, const platform::OpenFd& fd) {
  return std::find(fds.begin(), fds.end(), fd) != fds.end();
}

constexpr std::size_t kMaxGarbageItems = 10;

}  // namespace

std::vector<Finding> compareFds(const std::vector<platform::OpenFd>& before,
                                const std::vector<platform::OpenFd>& after) {
  std::vector<Finding> findings;
  Finding opened{CheckKind::Fd, Severity::Leak, {}, {}};
  for (const platform::OpenFd& fd : after) {
    if (!containsFd(before, fd)) opened.items.push_back(fmt::format("fd {} -> {}", fd.fd, fd.target));
  }
  if (!opened.items.empty()) {
    opened.message = plural(opened.items.size(), "file descriptor", "file descriptors") +
                     " left open by one call";
    findings.push_back(std::move(opened));
  }
  Finding closed{CheckKind::Fd, Severity::Warning, {}, {}};
  for (const platform::OpenFd& fd : before) {
    if (!containsFd(after, fd)) closed.items.push_back(fmt::format("fd {} -> {}", fd.fd, fd.target));
  }
  if (!closed.items.empty()) {
    closed.message = plural(closed.items.size(), "file descriptor", "file descriptors") +
                     (closed.items.size() == 1 ? " open before the call was" : " open before the call were") +
                     " closed by it";
    findings.push_back(std::move(closed));
  }
  return findings;
}

std::vector<Finding> compareNativeThreads(const std::vector<platform::NativeThread>& before,
                                          const std::vector<platform::NativeThread>& after,
                                          const std::set<int>& pythonThreadIds) {
  auto known = [](const std::vector<platform::NativeThread>& threads, int tid) {
    return std::any_of(threads.begin(), threads.end(),
                       [tid](const platform::NativeThread& t) { return t.tid == tid; });
  };
  std::vector<Finding> findings;
  Finding started{CheckKind::Thread, Severity::Leak, {}, {}};
  for (const platform::NativeThread& thread : after) {
    if (known(before, thread.tid) || pythonThreadIds.count(thread.tid)) continue;
    started.items.push_back(fmt::format("thread {} '{}'", thread.tid, thread.name));
  }
  if (!started.items.empty()) {
    started.message = plural(started.items.size(), "native thread", "native threads") +
                      " left running by one call";
    findings.push_back(std::move(started));
  }
  Finding ended{CheckKind::Thread, Severity::Warning, {}, {}};
  for (const platform::NativeThread& thread : before) {
    if (!known(after, thread.tid) && !pythonThreadIds.count(thread.tid)) {
      ended.items.push_back(fmt::format("thread {} '{}'", thread.tid, thread.name));
    }
  }
  if (!ended.items.empty()) {
    ended.message = plural(ended.items.size(), "native thread", "native threads") +
                    " running before the call ended during it";
    findings.push_back(std::move(ended));
  }
  return findings;
}

std::vector<Finding> comparePythonThreads(const std::vector<PythonThreadInfo>& before,
                                          const std::vector<PythonThreadInfo>& after) {
  auto known = [](const std::vector<PythonThreadInfo>& threads, unsigned long ident) {
    return std::any_of(threads.begin(), threads.end(),
                       [ident](const PythonThreadInfo& t) { return t.ident == ident; });
  };
  std::vector<Finding> findings;
  Finding started{CheckKind::PyThread, Severity::Leak, {}, {}};
  for (const PythonThreadInfo& thread : after) {
    if (!known(before, thread.ident)) started.items.push_back(thread.description);
  }
  if (!started.items.empty()) {
    started.message = plural(started.items.size(), "Python thread", "Python threads") +
                      " started by one call and not joined";
    findings.push_back(std::move(started));
  }
  Finding ended{CheckKind::PyThread, Severity::Warning, {}, {}};
  for (const PythonThreadInfo& thread : before) {
    if (!known(after, thread.ident)) ended.items.push_back(thread.description);
  }
  if (!ended.items.empty()) {
    ended.message = plural(ended.items.size(), "Python thread", "Python threads") +
                    " running before the call ended during it";
    findings.push_back(std::move(ended));
  }
  return findings;
}

std::vector<Finding> judgeGarbage(const std::vector<GarbageObject>& garbage) {
  if (garbage.empty()) return {};
  // Count per type, in order of first appearance, with the first repr of each.
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::size_t, std::string>> byType;
  for (const GarbageObject& object : garbage) {
    auto [it, inserted] = byType.try_emplace(object.typeName, 0, object.repr);
    if (inserted) order.push_back(object.typeName);
    ++it->second.first;
  }
  Finding finding{CheckKind::Gc, Severity::Leak, {}, {}};
  finding.message = plural(garbage.size(), "object", "objects") +
                    " left in reference cycles by one call (only the cycle collector frees them)";
  for (const std::string& type : order) {
    if (finding.items.size() == kMaxGarbageItems) {
      finding.items.push_back(fmt::format("... and {} more types", order.size() - kMaxGarbageItems));
      break;
    }
    const auto& [count, repr] = byType[type];
    finding.items.push_back(fmt::format("{} x {}: {}", count, type, repr));
  }
  return {finding};
}

std::vector<Finding> judgeRefcounts(const std::vector<RefcountSeries>& series,
                                    std::int64_t firstCalls, std::int64_t secondCalls) {
  Finding leaked{CheckKind::Refcount, Severity::Leak, {}, {}};
  Finding dropped{CheckKind::Refcount, Severity::Warning, {}, {}};
  for (const RefcountSeries& s : series) {
    const std::int64_t first = s.afterFirst - s.start;
    const std::int64_t second = s.afterSecond - s.afterFirst;
    const double perCall = static_cast<double>(second) / static_cast<double>(secondCalls);
    if (first > 0 && second > first) {
      leaked.items.push_back(fmt::format("{}: {:+.2f} references/call (+{} in {} calls, +{} in {})",
                                         s.name, perCall, first, firstCalls, second, secondCalls));
    } else if (first < 0 && second < first) {
      dropped.items.push_back(fmt::format("{}: {:+.2f} references/call ({} in {} calls, {} in {})",
                                          s.name, perCall, first, firstCalls, second, secondCalls));
    }
  }
  std::vector<Finding> findings;
  if (!leaked.items.empty()) {
    leaked.message = fmt::format("reference counts kept growing with the calls ({} object{})",
                                 leaked.items.size(), leaked.items.size() == 1 ? "" : "s");
    findings.push_back(std::move(leaked));
  }
  if (!dropped.items.empty()) {
    dropped.message = fmt::format("reference counts kept falling with the calls ({} object{}): "
                                  "a missing Py_INCREF will crash sooner or later",
                                  dropped.items.size(), dropped.items.size() == 1 ? "" : "s");
    findings.push_back(std::move(dropped));
  }
  return findings;
}

}  // namespace psleak
