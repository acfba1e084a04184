#include "python/other_threads.h"

#include <chrono>
#include <cstdint>
#include <thread>

#include "psleak/platform/thread_cpu_time.h"
#include "python/gil_release.h"

namespace psleak::py {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(1);
constexpr auto kLongestWait = std::chrono::milliseconds(50);
constexpr std::int64_t kIdleCpuNanoseconds = 50'000;
constexpr int kIdlePollsInARow = 2;

bool otherPythonThreadsExist() {
  PyThreadState* self = PyThreadState_Get();
  for (PyThreadState* state = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(self));
       state != nullptr; state = PyThreadState_Next(state)) {
    if (state != self) return true;
  }
  return false;
}

}  // namespace

void letOtherPythonThreadsCatchUp() {
  if (!otherPythonThreadsExist()) return;
  GilReleased released;
  const auto deadline = std::chrono::steady_clock::now() + kLongestWait;
  std::int64_t before = platform::otherThreadsCpuNanoseconds();
  int idlePolls = 0;
  while (idlePolls < kIdlePollsInARow && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kPollInterval);
    const std::int64_t now = platform::otherThreadsCpuNanoseconds();
    if (before < 0 || now < 0) return;  // no clock: the one poll was all it could do
    idlePolls = now - before < kIdleCpuNanoseconds ? idlePolls + 1 : 0;
    before = now;
  }
}

}  // namespace psleak::py
