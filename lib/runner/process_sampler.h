#pragma once
// Samples this process: the allocator's statistics and the kernel's view of memory.

#include "runner/memory_check.h"

namespace psleak {

class ProcessSampler : public Sampler {
 public:
  void trim() override;
  // Throws InternalError when /proc cannot be read.
  Sample sample() override;
};

}  // namespace psleak
