#pragma once
// Raw reads of small /proc files into caller-owned buffers: no stdio, no heap, so a
// probe taken between two allocator samples does not change what it measures.

#include <cstddef>
#include <string_view>

namespace psleak::platform::linux_proc {

// Reads the whole file (up to capacity bytes) into buffer. Returns the text read, or
// an empty view with errno set if the file could not be opened or read.
std::string_view readSmallFile(const char* path, char* buffer, std::size_t capacity) noexcept;

}  // namespace psleak::platform::linux_proc
