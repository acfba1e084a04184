#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "psleak/platform/fork_watch.h"
#include "psleak/platform/last_words.h"

namespace psleak::platform {
namespace {

// The target crashed or ended the process: psleak's documented exit code.
constexpr int kTargetEndedProcess = 5;

enum State : int {
  kInactive,   // nothing armed (--isolate, scan, a forked child): exits pass through
  kArmed,      // target code may run: the first way out writes the last words
  kClaimed,    // one thread is writing them; the rest wait for it to end the process
  kReporting,  // psleak writes its own report; other threads wait for it to finish
};
std::atomic<int> gState{kInactive};
std::atomic<pid_t> gReporterThread{0};
// The process that armed them. A child made by vfork() (as Python's subprocess does)
// shares this memory without running pthread_atfork handlers, and ends with _exit()
// when its exec fails: it must pass through, not claim the parent's last words.
std::atomic<pid_t> gArmedProcess{0};

// Two copies of the text: an update writes the one not in use, then publishes it. A
// thread that claims the last words reads the copy published at that moment; the
// updater stops once they are claimed, so at most one update overlaps that read, and it
// writes the other copy.
struct Text {
  int fd;
  std::size_t headLength;
  std::size_t tailLength;
  char head[kLastWordsCapacity];
  char tail[kLastWordsCapacity];
};
Text gTexts[2];
std::atomic<int> gPublished{0};

pid_t currentThread() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

void writeRaw(int fd, const char* text, std::size_t length) noexcept {
  while (length > 0) {
    const ssize_t n = ::write(fd, text, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

void writeText(int fd, const char* text) noexcept { writeRaw(fd, text, std::strlen(text)); }

void writeNumber(int fd, int value) noexcept {
  char digits[16];
  std::size_t at = sizeof digits;
  const bool negative = value < 0;
  unsigned magnitude = negative ? 0u - static_cast<unsigned>(value) : static_cast<unsigned>(value);
  do {
    digits[--at] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude > 0 && at > 1);
  if (negative) digits[--at] = '-';
  writeRaw(fd, digits + at, sizeof digits - at);
}

[[noreturn]] void waitForever() noexcept {
  for (;;) ::pause();
}

// Claims the last words. Returns the text to write, or nullptr when they are not armed
// (and this thread may go on as if psleak were not there). Never returns when another
// thread is ending the process.
const Text* claim() noexcept {
  if (::getpid() != gArmedProcess.load()) return nullptr;
  int expected = kArmed;
  if (gState.compare_exchange_strong(expected, kClaimed)) {
    return &gTexts[gPublished.load(std::memory_order_acquire)];
  }
  if (expected == kClaimed) waitForever();
  if (expected == kReporting && gReporterThread.load() != currentThread()) waitForever();
  return nullptr;
}

[[noreturn]] void finish(const Text& text) noexcept {
  writeRaw(text.fd, text.tail, text.tailLength);
  exitProcess(kTargetEndedProcess);
}

void onFatalSignal(int signal) {
  if (const Text* text = claim()) {
    writeRaw(text->fd, text->head, text->headLength);
    writeText(text->fd, "the target crashed psleak: SIG");
    if (const char* name = ::sigabbrev_np(signal)) writeText(text->fd, name);
    finish(*text);
  }
  // Not armed (or psleak's own report crashed): die of the signal as usual.
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

void onForkInChild() { gState.store(kInactive); }

void prepare() {
  // Touch every page now, before anything is measured: the text grows as the check goes
  // on, and pages first touched between runs would show as resident-memory growth.
  std::memset(gTexts, 0, sizeof gTexts);
  ::pthread_atfork(nullptr, nullptr, onForkInChild);
  struct sigaction action {};
  action.sa_handler = onFatalSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int signal : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) ::sigaction(signal, &action, nullptr);
}

}  // namespace

bool setLastWords(int fd, const std::string& head, const std::string& tail) {
  if (head.size() > kLastWordsCapacity || tail.size() > kLastWordsCapacity) return false;
  static bool prepared = false;
  if (!prepared) {
    prepare();
    prepared = true;
  }
  const int state = gState.load();
  if (state == kClaimed || state == kReporting) return true;  // too late to change them
  Text& text = gTexts[1 - gPublished.load(std::memory_order_relaxed)];
  text.fd = fd;
  std::memcpy(text.head, head.data(), head.size());
  text.headLength = head.size();
  std::memcpy(text.tail, tail.data(), tail.size());
  text.tailLength = tail.size();
  gPublished.store(static_cast<int>(&text - gTexts), std::memory_order_release);
  gArmedProcess.store(::getpid());
  int inactive = kInactive;
  gState.compare_exchange_strong(inactive, kArmed);
  return true;
}

void beginOwnReport() noexcept {
  gReporterThread.store(currentThread());
  int expected = kArmed;
  if (gState.compare_exchange_strong(expected, kReporting)) return;
  if (expected == kClaimed) waitForever();
}

void onProcessExit(int code, const char* function) noexcept {
  const Text* text = claim();
  if (!text) return;
  // exit() would have flushed the target's buffered C stdio output; _exit() would not.
  if (std::strcmp(function, "exit") == 0) std::fflush(nullptr);
  writeRaw(text->fd, text->head, text->headLength);
  writeText(text->fd, "the target ended psleak's process: ");
  writeText(text->fd, function);
  writeText(text->fd, "(");
  writeNumber(text->fd, code);
  writeText(text->fd, ")");
  finish(*text);
}

}  // namespace psleak::platform
