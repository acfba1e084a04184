#pragma once

#include <stdexcept>

namespace psleak::platform {

// A probe of the operating system failed; the message names the file or call.
class PlatformError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace psleak::platform
