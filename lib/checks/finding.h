#pragma once
// What a check found: a leak (fails the verdict) or a warning (a count that went down).

#include <string>
#include <vector>

#include "checks/check_kind.h"

namespace psleak {

enum class Severity { Leak, Warning };

struct Finding {
  CheckKind kind = CheckKind::Memory;
  Severity severity = Severity::Leak;
  std::string message;             // one line: "1 file descriptor left open by one call"
  std::vector<std::string> items;  // what exactly: "fd 7 -> /dev/null"
};

}  // namespace psleak
