#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "psleak/platform/child_process.h"
#include "psleak/platform/platform_error.h"
#include "psleak/platform/report_output.h"

namespace psleak::platform {
namespace {

// Above the descriptors a process usually has open, so that a target closing or
// reopening "its" low descriptors does not touch this one.
constexpr int kReportFdFloor = 200;

int gReportFd = STDOUT_FILENO;
bool gSeparated = false;
// What gReportFd referred to when it was made: a target that closed it and opened
// something else under the same number must not get psleak's report.
dev_t gReportDevice = 0;
ino_t gReportInode = 0;

}  // namespace

void separateReportFromTargetOutput() {
  if (gSeparated) return;
  int fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, kReportFdFloor);
  if (fd < 0) fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);  // a low RLIMIT_NOFILE
  if (fd < 0) {
    // No stdout at all (started with fd 1 closed): the report has nowhere to go, and
    // writing it will say so.
    if (errno == EBADF) return;
    throw PlatformError(std::string("cannot duplicate stdout: ") + std::strerror(errno));
  }
  struct stat status {};
  if (::fstat(fd, &status) == 0) {
    gReportDevice = status.st_dev;
    gReportInode = status.st_ino;
  }
  if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    const int error = errno;
    ::close(fd);
    throw PlatformError(std::string("cannot point stdout at stderr: ") + std::strerror(error));
  }
  gReportFd = fd;
  gSeparated = true;
  // What target code printf()s now goes to stderr, where people read it as it comes.
  std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
}

int reportFd() noexcept { return gReportFd; }

bool writeReport(std::string_view text, std::string& error) {
  if (gSeparated) {
    struct stat status {};
    if (::fstat(gReportFd, &status) != 0 || status.st_dev != gReportDevice ||
        status.st_ino != gReportInode) {
      error = "the target closed psleak's copy of stdout";
      return false;
    }
  }
  if (!writeAll(gReportFd, std::string(text))) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

void dropReportFdInChild() noexcept {
  if (!gSeparated) return;
  ::close(gReportFd);
  gReportFd = STDOUT_FILENO;
  gSeparated = false;
}

}  // namespace psleak::platform
