#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

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

// The fatal-signal report, copied in before the target runs.
char gFatalBefore[4096];
std::size_t gFatalBeforeLength = 0;
char gFatalAfter[1024];
std::size_t gFatalAfterLength = 0;
int gFatalFd = 2;

void writeRaw(const char* text, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(gFatalFd, text, length);
    if (n <= 0) return;
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

void onFatalSignal(int signal) {
  writeRaw(gFatalBefore, gFatalBeforeLength);
  const char* name = ::sigabbrev_np(signal);
  writeRaw("SIG", 3);
  if (name) writeRaw(name, std::strlen(name));
  writeRaw(gFatalAfter, gFatalAfterLength);
  ::_exit(5);  // psleak's documented code for a target that crashed
}

std::size_t copyInto(char* buffer, std::size_t capacity, const std::string& text) {
  const std::size_t length = std::min(capacity, text.size());
  std::memcpy(buffer, text.data(), length);
  return length;
}

}  // namespace

void installFatalSignalReport(int fd, const std::string& before, const std::string& after) {
  gFatalFd = fd;
  gFatalBeforeLength = copyInto(gFatalBefore, sizeof gFatalBefore, before);
  gFatalAfterLength = copyInto(gFatalAfter, sizeof gFatalAfter, after);
  struct sigaction action {};
  action.sa_handler = onFatalSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int signal : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) ::sigaction(signal, &action, nullptr);
}

void installInterruptHandler() {
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a parent waiting in poll() wakes up
  ::sigaction(SIGINT, &action, nullptr);
}

bool interruptRequested() noexcept { return gInterrupted != 0; }

}  // namespace psleak::platform
