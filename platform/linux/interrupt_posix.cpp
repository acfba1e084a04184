#include <signal.h>

#include "psleak/platform/interrupt.h"

namespace psleak::platform {
namespace {

volatile sig_atomic_t gInterrupted = 0;

void onInterrupt(int signal) {
  if (gInterrupted) {
    // Asked twice: stop waiting for the loop and end as SIGINT would.
    ::signal(signal, SIG_DFL);
    ::raise(signal);
    return;
  }
  gInterrupted = 1;
}

}  // namespace

void installInterruptHandler() {
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a parent waiting in poll() wakes up
  ::sigaction(SIGINT, &action, nullptr);
}

bool interruptRequested() noexcept { return gInterrupted != 0; }

}  // namespace psleak::platform
