// Process memory from /proc/self/statm (RSS, VMS) and /proc/self/smaps_rollup (USS).

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "linux/proc_files.h"
#include "psleak/platform/platform_error.h"
#include "psleak/platform/process_memory.h"

namespace psleak::platform {
namespace {

// Parses a decimal number at the front of text, skipping leading blanks.
std::optional<std::int64_t> takeNumber(std::string_view& text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (i == text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
  std::int64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  text.remove_prefix(i);
  return value;
}

// Value in bytes of a "Key:   123 kB" line of smaps_rollup, if the line has that key.
std::optional<std::int64_t> fieldInKb(std::string_view line, std::string_view key) {
  if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':')
    return std::nullopt;
  line.remove_prefix(key.size() + 1);
  auto kb = takeNumber(line);
  if (!kb) return std::nullopt;
  return *kb * 1024;
}

[[noreturn]] void throwReadError(const char* path) {
  throw PlatformError(std::string("cannot read ") + path + ": " + std::strerror(errno));
}

}  // namespace

std::optional<ProcessMemory> parseStatm(std::string_view text, std::int64_t pageSize) {
  auto size = takeNumber(text);
  auto resident = takeNumber(text);
  if (!size || !resident) return std::nullopt;
  ProcessMemory memory;
  memory.vms = *size * pageSize;
  memory.rss = *resident * pageSize;
  return memory;
}

std::optional<std::int64_t> parseSmapsRollupUss(std::string_view text) {
  std::int64_t uss = 0;
  bool sawPrivate = false;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    for (std::string_view key : {"Private_Clean", "Private_Dirty", "Private_Hugetlb"}) {
      if (auto bytes = fieldInKb(line, key)) {
        uss += *bytes;
        sawPrivate = true;
      }
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  if (!sawPrivate) return std::nullopt;
  return uss;
}

ProcessMemory readProcessMemory() {
  char buffer[4096];
  static const std::int64_t pageSize = ::sysconf(_SC_PAGESIZE);

  const char* statmPath = "/proc/self/statm";
  auto statm = parseStatm(linux_proc::readSmallFile(statmPath, buffer, sizeof buffer), pageSize);
  if (!statm) throwReadError(statmPath);

  const char* rollupPath = "/proc/self/smaps_rollup";
  auto uss = parseSmapsRollupUss(linux_proc::readSmallFile(rollupPath, buffer, sizeof buffer));
  if (!uss) throwReadError(rollupPath);
  statm->uss = *uss;
  return *statm;
}

}  // namespace psleak::platform
