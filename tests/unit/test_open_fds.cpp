// Open descriptors, listed from /proc/self/fd while the test opens and closes its own.

#include "psleak/platform/open_fds.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace psleak::platform {
namespace {

std::optional<OpenFd> findFd(const std::vector<OpenFd>& fds, int fd) {
  for (const OpenFd& open : fds) {
    if (open.fd == fd) return open;
  }
  return std::nullopt;
}

TEST(OpenFds, SeesANewDescriptorAndItsTarget) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const auto withFd = listOpenFds();
  ::close(fd);
  const auto withoutFd = listOpenFds();

  const auto found = findFd(withFd, fd);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->target, "/dev/null");
  EXPECT_FALSE(findFd(withoutFd, fd).has_value());
  EXPECT_EQ(withFd.size(), withoutFd.size() + 1);
}

TEST(OpenFds, PipeEndsShareOnePipeTarget) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  const auto fds = listOpenFds();
  ::close(ends[0]);
  ::close(ends[1]);

  const auto readEnd = findFd(fds, ends[0]);
  const auto writeEnd = findFd(fds, ends[1]);
  ASSERT_TRUE(readEnd.has_value());
  ASSERT_TRUE(writeEnd.has_value());
  EXPECT_EQ(readEnd->target.rfind("pipe:[", 0), 0u) << readEnd->target;
  EXPECT_EQ(readEnd->target.back(), ']') << readEnd->target;
  EXPECT_EQ(readEnd->target, writeEnd->target);
}

TEST(OpenFds, LeavesOutTheDescriptorItListsWith) {
  // open() returns the lowest free descriptor, so the one just closed is the one the
  // listing's own directory handle gets.
  const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(probe, 0);
  ::close(probe);
  const auto fds = listOpenFds();
  EXPECT_FALSE(findFd(fds, probe).has_value()) << "fd " << probe << " is the listing's own";
  for (const OpenFd& open : fds) {
    EXPECT_NE(::fcntl(open.fd, F_GETFD), -1) << "fd " << open.fd << " (" << open.target
                                             << ") is not open";
  }
}

TEST(OpenFds, SortedWithStandardStreams) {
  const auto fds = listOpenFds();
  EXPECT_TRUE(std::is_sorted(fds.begin(), fds.end(),
                             [](const OpenFd& a, const OpenFd& b) { return a.fd < b.fd; }));
  for (int fd : {0, 1, 2}) {
    if (::fcntl(fd, F_GETFD) != -1) {
      EXPECT_TRUE(findFd(fds, fd).has_value()) << fd;
    }
  }
}

TEST(OpenFds, CountAgreesWithListing) {
  EXPECT_EQ(static_cast<std::size_t>(countOpenFds()), listOpenFds().size());
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  const int withPipe = countOpenFds();
  const std::size_t listed = listOpenFds().size();
  ::close(ends[0]);
  ::close(ends[1]);
  EXPECT_EQ(static_cast<std::size_t>(withPipe), listed);
  EXPECT_EQ(withPipe, countOpenFds() + 2);
}

TEST(OpenFds, CountReadsMoreThanOneBufferOfEntries) {
  // About 170 entries fit the count's 4 KiB buffer: 300 more need several reads.
  std::vector<int> opened;
  for (int i = 0; i < 300; ++i) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    opened.push_back(fd);
  }
  const int count = countOpenFds();
  const std::size_t listed = listOpenFds().size();
  for (int fd : opened) ::close(fd);
  EXPECT_EQ(static_cast<std::size_t>(count), listed);
  EXPECT_EQ(count, countOpenFds() + 300);
}

}  // namespace
}  // namespace psleak::platform
