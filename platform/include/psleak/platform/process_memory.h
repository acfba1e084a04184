#pragma once
// The process's memory as the kernel sees it.

#include <cstdint>
#include <optional>
#include <string_view>

namespace psleak::platform {

struct ProcessMemory {
  std::int64_t rss = 0;  // resident set size
  std::int64_t uss = 0;  // unique set size: private pages, what freeing the process returns
  std::int64_t vms = 0;  // virtual size
};

// Reads /proc/self. Throws PlatformError if the files cannot be read. Uses stack
// buffers only, so it does not disturb the allocator it is measuring.
ProcessMemory readProcessMemory();

// Parsers, separate so tests can feed them fixture text.
// /proc/PID/statm: "size resident shared text lib data dt" in pages.
std::optional<ProcessMemory> parseStatm(std::string_view text, std::int64_t pageSize);
// /proc/PID/smaps_rollup: USS = Private_Clean + Private_Dirty + Private_Hugetlb, in bytes.
std::optional<std::int64_t> parseSmapsRollupUss(std::string_view text);

}  // namespace psleak::platform
