#include "checks/resource_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace psleak {
namespace {

std::string plural(std::size_t count, const char* one, const char* many) {
  return fmt::format("{} {}", count, count == 1 ? one : many);
}

constexpr std::size_t kMaxGarbageItems = 10;
constexpr std::size_t kMaxDescriptorItems = 10;

// What one call changed in a set of resources: items after it that were not there
// before are a leak, items before it that are gone a warning. `same` tells two snapshots
// of one item apart from others; `counted` leaves out items judged elsewhere.
template <typename Item, typename Same, typename Describe, typename Counted>
std::vector<Finding> compareSnapshots(const std::vector<Item>& before, const std::vector<Item>& after,
                                      CheckKind kind, Same same, Describe describe, Counted counted,
                                      const char* one, const char* many, const char* leftBehind,
                                      const char* goneOne, const char* goneMany) {
  auto in = [&](const std::vector<Item>& items, const Item& item) {
    return std::any_of(items.begin(), items.end(), [&](const Item& other) { return same(item, other); });
  };
  std::vector<Finding> findings;
  Finding added{kind, Severity::Leak, {}, {}};
  for (const Item& item : after) {
    if (counted(item) && !in(before, item)) added.items.push_back(describe(item));
  }
  if (!added.items.empty()) {
    added.message = plural(added.items.size(), one, many) + " " + leftBehind;
    findings.push_back(std::move(added));
  }
  Finding removed{kind, Severity::Warning, {}, {}};
  for (const Item& item : before) {
    if (counted(item) && !in(after, item)) removed.items.push_back(describe(item));
  }
  if (!removed.items.empty()) {
    removed.message = plural(removed.items.size(), one, many) + " " +
                      (removed.items.size() == 1 ? goneOne : goneMany);
    findings.push_back(std::move(removed));
  }
  return findings;
}

auto always = [](const auto&) { return true; };

std::string describeFd(const platform::OpenFd& fd) { return fmt::format("fd {} -> {}", fd.fd, fd.target); }

}  // namespace

std::vector<Finding> compareFds(const std::vector<platform::OpenFd>& before,
                                const std::vector<platform::OpenFd>& after) {
  // A descriptor number reused for another file counts as both closed and opened.
  return compareSnapshots(
      before, after, CheckKind::Fd, [](const platform::OpenFd& a, const platform::OpenFd& b) { return a == b; },
      describeFd, always,
      "file descriptor", "file descriptors", "left open by one call",
      "open before the call was closed by it", "open before the call were closed by it");
}

std::vector<Finding> compareNativeThreads(const std::vector<platform::NativeThread>& before,
                                          const std::vector<platform::NativeThread>& after,
                                          const std::set<int>& pythonThreadIds) {
  return compareSnapshots(
      before, after, CheckKind::Thread,
      [](const platform::NativeThread& a, const platform::NativeThread& b) { return a.tid == b.tid; },
      [](const platform::NativeThread& t) { return fmt::format("thread {} '{}'", t.tid, t.name); },
      [&](const platform::NativeThread& t) { return pythonThreadIds.count(t.tid) == 0; },
      "native thread", "native threads", "left running by one call",
      "running before the call ended during it", "running before the call ended during it");
}

std::vector<Finding> comparePythonThreads(const std::vector<PythonThreadInfo>& before,
                                          const std::vector<PythonThreadInfo>& after) {
  return compareSnapshots(
      before, after, CheckKind::PyThread,
      [](const PythonThreadInfo& a, const PythonThreadInfo& b) { return a.ident == b.ident; },
      [](const PythonThreadInfo& t) { return t.description; }, always, "Python thread",
      "Python threads", "started by one call and not joined",
      "running before the call ended during it", "running before the call ended during it");
}

std::vector<Finding> judgeGarbage(const std::vector<GarbageObject>& garbage, bool strict) {
  if (garbage.empty()) return {};
  // Count per type, in order of first appearance, with the first repr of each.
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::size_t, std::string>> byType;
  for (const GarbageObject& object : garbage) {
    auto [it, inserted] = byType.try_emplace(object.typeName, 0, object.repr);
    if (inserted) order.push_back(object.typeName);
    ++it->second.first;
  }
  Finding finding{CheckKind::Gc, strict ? Severity::Leak : Severity::Warning, {}, {}};
  finding.message = plural(garbage.size(), "object", "objects") +
                    " left in reference cycles by one call (only the cycle collector frees them)";
  // The collector does free them, so memory stays flat: worth knowing, not a leak unless
  // asked. Cycles it cannot free show up as memory growth anyway.
  if (!strict) finding.message += "; not counted as a leak (--strict gc makes it one)";
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

std::vector<Finding> judgeDescriptorsOverRuns(const std::vector<std::int64_t>& counts,
                                              const std::vector<std::int64_t>& calls,
                                              const std::vector<platform::OpenFd>& before,
                                              const std::vector<platform::OpenFd>& after) {
  if (counts.size() != calls.size() + 1 || calls.size() < 2) return {};
  std::int64_t previous = 0, totalGrowth = 0, totalCalls = 0;
  std::string perRun;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const std::int64_t growth = counts[i + 1] - counts[i];
    if (growth <= previous) return {};  // none, or no more than in a smaller run
    previous = growth;
    totalGrowth += growth;
    totalCalls += calls[i];
    perRun += fmt::format("{}+{} in {} calls", i == 0 ? "" : ", ", growth, calls[i]);
  }
  Finding leaked{CheckKind::Fd, Severity::Leak, {}, {}};
  leaked.message = fmt::format(
      "open file descriptors kept growing with the calls ({}: one every {:.0f} calls)", perRun,
      static_cast<double>(totalCalls) / static_cast<double>(totalGrowth));
  std::size_t left = 0;
  for (const platform::OpenFd& fd : after) {
    if (std::find(before.begin(), before.end(), fd) != before.end()) continue;
    if (leaked.items.size() < kMaxDescriptorItems) leaked.items.push_back(describeFd(fd));
    ++left;
  }
  if (left > leaked.items.size()) {
    leaked.items.push_back(fmt::format("... and {} more", left - leaked.items.size()));
  }
  return {leaked};
}

}  // namespace psleak
