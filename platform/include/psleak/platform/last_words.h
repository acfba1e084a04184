#pragma once
// Without --isolate the target runs in psleak's own process and can end it: a crash
// (SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL) or a call of exit(), _exit() or _Exit()
// (os._exit, Py_Exit, a C extension's exit) would leave no report, and an exit code the
// target chose, 0 included. psleak's executable defines exit, _exit and _Exit itself
// (platform/linux/hooks/exit_hooks.cpp) and handles those signals; while last words are
// armed, either way out writes them and ends the process with exit code 5 (the target
// crashed). What they cannot see: the exit system call made directly, and SIGKILL
// (the OOM killer); --isolate covers those.

#include <cstddef>
#include <string>

namespace psleak::platform {

// The most text each of `head` and `tail` may hold.
inline constexpr std::size_t kLastWordsCapacity = std::size_t{128} << 10;

// Arms the last words, or replaces their text (as the check goes on): written to `fd`
// as head + cause + tail, where the cause is "the target crashed psleak: SIGSEGV" or
// "the target ended psleak's process: _exit(3)". The text is copied into buffers
// reserved at the first call (nothing is formatted or allocated when the process ends).
// Returns false, leaving the previous text in place, if head or tail is too long.
bool setLastWords(int fd, const std::string& head, const std::string& tail);

// psleak writes its own report from here on: the last words are disarmed, and a target
// thread that still tries to end the process or crashes waits until psleak has finished
// (psleak's exit ends it). If a target thread is writing the last words at this moment,
// this call never returns: that thread ends the process.
void beginOwnReport() noexcept;

// Called by the exit interposer before the real exit: when armed, writes the last words
// and ends the process (never returns); `function` is "exit", "_exit" or "_Exit".
void onProcessExit(int code, const char* function) noexcept;

}  // namespace psleak::platform
