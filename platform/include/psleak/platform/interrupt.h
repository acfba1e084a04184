#pragma once
// Ctrl-C (SIGINT) and SIGTERM (what CI runners and `timeout` send) as requests, not
// kills: the first one sets a flag that the call loop checks between calls, so that
// psleak can still print what it measured; a second one ends the process as usual.

namespace psleak::platform {

// Installs the handler for SIGINT and SIGTERM (replacing the interpreter's SIGINT
// handler, which would only raise KeyboardInterrupt inside Python code, never inside a
// C extension's loop).
void installInterruptHandler();

// True once SIGINT or SIGTERM came.
bool interruptRequested() noexcept;
// The signal that asked psleak to stop (SIGINT or SIGTERM), 0 if none.
int interruptSignal() noexcept;
// How the stop request is named in messages: "Ctrl-C" or "SIGTERM".
const char* interruptName() noexcept;
// True when the stop request was SIGTERM.
bool terminationRequested() noexcept;

// Which of psleak's handlers were found replaced for the first time.
struct ReplacedHandlers {
  bool interrupt = false;  // SIGINT
  bool terminate = false;  // SIGTERM
};

// Puts psleak's handler back for each of SIGINT and SIGTERM that target code replaced
// (signal.signal, a C library's sigaction); says which were replaced for the first time
// (each is reported once). Does nothing if the handler was never installed. Two system
// calls: for between chunks of calls, not for every call.
ReplacedHandlers restoreInterruptHandlers() noexcept;

}  // namespace psleak::platform
