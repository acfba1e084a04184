#pragma once
// Ctrl-C as a request, not a kill: the first SIGINT sets a flag that the call loop
// checks between calls, so that psleak can still print what it measured; a second one
// ends the process as usual.

namespace psleak::platform {

// Installs the SIGINT handler (replacing the interpreter's, which would only raise
// KeyboardInterrupt inside Python code, never inside a C extension's loop).
void installInterruptHandler();

bool interruptRequested() noexcept;

}  // namespace psleak::platform
