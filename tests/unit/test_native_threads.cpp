// Native threads from /proc/self/task: a thread the test starts, names and joins.

#include "psleak/platform/native_threads.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace psleak::platform {
namespace {

std::optional<NativeThread> findThread(int tid) {
  for (const NativeThread& thread : listNativeThreads()) {
    if (thread.tid == tid) return thread;
  }
  return std::nullopt;
}

// Starts a thread that names itself and waits until released.
class NamedThread {
 public:
  explicit NamedThread(const char* name)
      : thread_([this, name] {
          ::pthread_setname_np(::pthread_self(), name);
          std::unique_lock<std::mutex> lock(mutex_);
          tid_ = static_cast<int>(::syscall(SYS_gettid));
          changed_.notify_all();
          changed_.wait(lock, [this] { return released_; });
        }) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return tid_ != 0; });
  }
  ~NamedThread() { join(); }

  int tid() const { return tid_; }
  void join() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      released_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int tid_ = 0;
  bool released_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

TEST(NativeThreads, ListsTheMainThreadSorted) {
  const auto threads = listNativeThreads();
  ASSERT_FALSE(threads.empty());
  EXPECT_TRUE(std::is_sorted(threads.begin(), threads.end(),
                             [](const NativeThread& a, const NativeThread& b) { return a.tid < b.tid; }));
  EXPECT_EQ(threads.front().tid, ::getpid());
  EXPECT_FALSE(threads.front().name.empty());
  EXPECT_EQ(threads.front().name.find('\n'), std::string::npos);
}

TEST(NativeThreads, SeesANamedThreadUntilItIsJoined) {
  const std::size_t before = listNativeThreads().size();
  NamedThread thread("psleak-probe");
  const auto found = findThread(thread.tid());
  ASSERT_TRUE(found.has_value()) << "tid " << thread.tid();
  EXPECT_EQ(found->name, "psleak-probe");
  EXPECT_EQ(listNativeThreads().size(), before + 1);

  const int tid = thread.tid();
  thread.join();
  // pthread_join returns when the kernel clears the thread's tid, a moment before the
  // task leaves /proc/self/task: look again for a while before calling it a failure.
  bool gone = false;
  for (int attempt = 0; attempt < 500 && !gone; ++attempt) {
    gone = !findThread(tid).has_value();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "tid " << tid << " still listed after join";
}

TEST(NativeThreads, FifteenCharacterNameIsKeptWhole) {
  NamedThread thread("psleak-15-chars");  // exactly 15: the most comm holds
  const auto found = findThread(thread.tid());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "psleak-15-chars");
}

}  // namespace
}  // namespace psleak::platform
