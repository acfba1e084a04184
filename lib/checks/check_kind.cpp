#include "checks/check_kind.h"

#include "core/errors.h"

namespace psleak {
namespace {

constexpr std::array<std::string_view, kAllChecks.size()> kNames = {
    "memory", "fd", "thread", "pythread", "gc", "refcount"};

std::string knownNames() {
  std::string names;
  for (std::string_view name : kNames) {
    if (!names.empty()) names += ",";
    names += name;
  }
  return names;
}

// Splits "a,b" items of repeated options into names.
std::vector<CheckKind> parseList(const std::vector<std::string>& values, const char* option) {
  std::vector<CheckKind> kinds;
  for (const std::string& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t comma = value.find(',', start);
      const std::string name = value.substr(start, comma - start);
      if (!name.empty()) {
        const auto kind = checkFromName(name);
        if (!kind) {
          throw UsageError(std::string(option) + " '" + value + "': unknown check '" + name +
                           "' (known: " + knownNames() + ")");
        }
        kinds.push_back(*kind);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return kinds;
}

}  // namespace

std::string_view checkName(CheckKind kind) { return kNames[static_cast<int>(kind)]; }

std::optional<CheckKind> checkFromName(std::string_view name) {
  for (CheckKind kind : kAllChecks) {
    if (checkName(kind) == name) return kind;
  }
  return std::nullopt;
}

CheckSelection CheckSelection::fromOptions(const std::vector<std::string>& checks,
                                           const std::vector<std::string>& skip) {
  CheckSelection selection;
  const std::vector<CheckKind> only = parseList(checks, "--checks");
  if (!only.empty()) {
    selection.enabled_.fill(false);
    for (CheckKind kind : only) selection.set(kind, true);
  }
  for (CheckKind kind : parseList(skip, "--skip")) selection.set(kind, false);
  if (selection.names().empty()) throw UsageError("--checks/--skip leave nothing to check");
  return selection;
}

void CheckSelection::applyStrictOptions(const std::vector<std::string>& strict) {
  for (CheckKind kind : parseList(strict, "--strict")) {
    if (kind != CheckKind::Gc) {
      throw UsageError("--strict " + std::string(checkName(kind)) +
                       ": only gc has warnings that --strict can make failures");
    }
    setStrict(kind, true);
  }
}

std::vector<std::string> CheckSelection::names() const {
  std::vector<std::string> names;
  for (CheckKind kind : kAllChecks) {
    if (enabled(kind)) names.emplace_back(checkName(kind));
  }
  return names;
}

}  // namespace psleak
