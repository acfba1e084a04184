#pragma once

#include <string>
// Ctrl-C as a request, not a kill: the first SIGINT sets a flag that the call loop
// checks between calls, so that psleak can still print what it measured; a second one
// ends the process as usual.

namespace psleak::platform {

// Installs the SIGINT handler (replacing the interpreter's, which would only raise
// KeyboardInterrupt inside Python code, never inside a C extension's loop).
void installInterruptHandler();

bool interruptRequested() noexcept;

}  // namespace psleak::platform

namespace psleak::platform {

// When the target kills psleak itself (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, without
// --isolate), writes `before` + the signal's name + `after` to `fd` with write(2) and
// ends the process with exit code 5 (target crashed). The text is copied now: nothing is
// formatted or allocated in the handler.
void installFatalSignalReport(int fd, const std::string& before, const std::string& after);

}  // namespace psleak::platform
