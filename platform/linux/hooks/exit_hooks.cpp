// exit, _exit and _Exit, defined in the psleak executable so that target code ending the
// process (os._exit, Py_Exit, a C extension's exit) goes through psleak first: while its
// last words are armed it says what happened and exits 5 (see last_words.h). Otherwise
// these forward to the C library. Linked only into psleak's executables.

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "psleak/platform/fork_watch.h"
#include "psleak/platform/last_words.h"

extern "C" {

void exit(int status) noexcept {
  psleak::platform::onProcessExit(status, "exit");
  using ExitFunction = void (*)(int);
  static const auto realExit = reinterpret_cast<ExitFunction>(::dlsym(RTLD_NEXT, "exit"));
  if (realExit) realExit(status);
  psleak::platform::exitProcess(status);
}

void _exit(int status) noexcept {
  psleak::platform::onProcessExit(status, "_exit");
  psleak::platform::exitProcess(status);
}

void _Exit(int status) noexcept {
  psleak::platform::onProcessExit(status, "_Exit");
  psleak::platform::exitProcess(status);
}

}  // extern "C"
