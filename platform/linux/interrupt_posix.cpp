#include <signal.h>

#include "psleak/platform/interrupt.h"

namespace psleak::platform {
namespace {

constexpr int kStopSignals[] = {SIGINT, SIGTERM};

volatile sig_atomic_t gStopSignal = 0;
bool gInstalled = false;
unsigned long gReportedReplacements = 0;

void onStopSignal(int signal) {
  if (gStopSignal) {
    // Asked twice: stop waiting for the loop and end as the signal would.
    ::signal(signal, SIG_DFL);
    ::raise(signal);
    return;
  }
  gStopSignal = signal;
}

void install(int signal) {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a parent waiting in poll() wakes up
  ::sigaction(signal, &action, nullptr);
}

}  // namespace

void installInterruptHandler() {
  for (int signal : kStopSignals) install(signal);
  gInstalled = true;
}

bool interruptRequested() noexcept { return gStopSignal != 0; }

int interruptSignal() noexcept { return gStopSignal; }

const char* interruptName() noexcept { return gStopSignal == SIGTERM ? "SIGTERM" : "Ctrl-C"; }

bool terminationRequested() noexcept { return gStopSignal == SIGTERM; }

ReplacedHandlers restoreInterruptHandlers() noexcept {
  ReplacedHandlers firstTime;
  if (!gInstalled) return firstTime;
  for (int signal : kStopSignals) {
    struct sigaction current {};
    if (::sigaction(signal, nullptr, &current) != 0) continue;
    if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == onStopSignal) continue;
    install(signal);
    const unsigned long bit = 1ul << signal;
    if (!(gReportedReplacements & bit)) (signal == SIGINT ? firstTime.interrupt : firstTime.terminate) = true;
    gReportedReplacements |= bit;
  }
  return firstTime;
}

}  // namespace psleak::platform
