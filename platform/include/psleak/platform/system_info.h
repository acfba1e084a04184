#pragma once

#include <string>

namespace psleak::platform {

struct SystemInfo {
  std::string system;   // "Linux"
  std::string release;  // kernel release
  std::string machine;  // "x86_64"
  std::string libc;     // "glibc 2.36"
};

SystemInfo systemInfo();

}  // namespace psleak::platform
