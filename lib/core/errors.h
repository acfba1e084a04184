#pragma once
// psleak's error types and the exit codes they map to (in one place: exitCodeFor).

#include <stdexcept>
#include <string>

namespace psleak {

enum class ExitCode : int {
  Clean = 0,
  Leak = 1,
  Usage = 2,     // bad command line or option value
  Target = 3,    // the target cannot be imported, resolved or called as asked
  Internal = 4,  // psleak itself failed
  Crashed = 5,   // the target killed or ended its process, or hung past --timeout
  Interrupted = 130,  // Ctrl-C (SIGINT), as shells report it
  Terminated = 143,   // SIGTERM, as shells report it
};

// The command line asks for something impossible.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The target failed: import error, missing attribute, not callable, unexpected exception.
// `details` holds the Python traceback when there is one.
class TargetError : public std::runtime_error {
 public:
  TargetError(const std::string& message, std::string details = {})
      : std::runtime_error(message), details_(std::move(details)) {}
  const std::string& details() const { return details_; }

 private:
  std::string details_;
};

// Ctrl-C or SIGTERM: the check stopped between two calls; what was measured so far
// stands.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(const std::string& message, bool terminated)
      : std::runtime_error(message), terminated_(terminated) {}
  // The verdict kind: "terminated" (SIGTERM) or "interrupted" (Ctrl-C).
  const char* kind() const { return terminated_ ? "terminated" : "interrupted"; }

 private:
  bool terminated_;
};

// --expect-exception was given but a call returned normally: the target is wrong, and
// a test of it (MemoryLeakTestCase.execute_w_exc) fails rather than errors.
class MissingExpectedException : public TargetError {
 public:
  using TargetError::TargetError;
};

// psleak's own machinery failed (a probe, the interpreter set-up).
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace psleak
