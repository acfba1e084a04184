#pragma once
// psleak's mmap/mmap64/munmap/mremap (mapping_hooks.cpp): live anonymous mapped bytes.

#include <cstdint>

#include "hook_common.h"

namespace psleak::hooks {

std::int64_t mappedBytes() PSLEAK_HOOK_INTERNAL;

}  // namespace psleak::hooks
