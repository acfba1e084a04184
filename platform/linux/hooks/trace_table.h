#pragma once
// Allocation tracing: while recording, the stack of every new allocation is kept in a
// table keyed by address; a free removes its entry; the drain visits what is left.

#include <stddef.h>

#include "hook_common.h"

namespace psleak::hooks {

// Records the stack of the block just allocated at `p`.
void traceAllocation(void* p, size_t size) PSLEAK_HOOK_INTERNAL;
// Forgets `p` if it is in the table; true if it was.
bool traceForget(void* p) PSLEAK_HOOK_INTERNAL;

}  // namespace psleak::hooks
