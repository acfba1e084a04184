#pragma once
// The checks `psleak run` makes, and the --checks/--skip selection of them.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psleak {

enum class CheckKind : int {
  Memory,    // memory that keeps growing run after run
  Fd,        // file descriptors left open
  Thread,    // native threads left running
  PyThread,  // Python threads started and not joined
  Gc,        // objects left in reference cycles
  Refcount,  // references leaked to objects that already exist
};

inline constexpr std::array<CheckKind, 6> kAllChecks = {CheckKind::Memory, CheckKind::Fd,
                                                        CheckKind::Thread, CheckKind::PyThread,
                                                        CheckKind::Gc,     CheckKind::Refcount};

// "memory", "fd", "thread", "pythread", "gc", "refcount".
std::string_view checkName(CheckKind kind);
std::optional<CheckKind> checkFromName(std::string_view name);

class CheckSelection {
 public:
  CheckSelection() { enabled_.fill(true); }
  // From --checks (empty: all) and --skip lists, comma-separated or repeated.
  // Throws UsageError naming an unknown check, or when nothing is left to check.
  static CheckSelection fromOptions(const std::vector<std::string>& checks,
                                    const std::vector<std::string>& skip);

  bool enabled(CheckKind kind) const { return enabled_[static_cast<int>(kind)]; }
  void set(CheckKind kind, bool on) { enabled_[static_cast<int>(kind)] = on; }
  std::vector<std::string> names() const;  // enabled ones, in kAllChecks order

  // Checks whose findings are failures rather than warnings. Only gc has a choice: objects
  // in collectable reference cycles are a warning in the CLI unless --strict gc asks, and
  // a failure in MemoryLeakTestCase, as in the original package.
  bool strict(CheckKind kind) const { return strict_[static_cast<int>(kind)]; }
  void setStrict(CheckKind kind, bool on) { strict_[static_cast<int>(kind)] = on; }
  // From --strict lists; throws UsageError for a check that has no warnings to make strict.
  void applyStrictOptions(const std::vector<std::string>& strict);

 private:
  std::array<bool, kAllChecks.size()> enabled_{};
  std::array<bool, kAllChecks.size()> strict_{};
};

}  // namespace psleak
