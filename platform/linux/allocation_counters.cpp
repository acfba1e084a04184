// Reads psleak's allocator hooks through weak references: linked into the psleak
// executable they resolve to the hooks; elsewhere (the Python extension module) they
// are null and the counters are reported absent.

#include "psleak/platform/allocation_counters.h"
#include "psleak/platform/allocation_hooks_abi.h"

#include <cstdlib>

extern "C" {
__attribute__((weak)) void psleak_hooks_read(PsleakAllocationCounters*);
__attribute__((weak)) int psleak_hooks_counting(void);
__attribute__((weak)) void psleak_hooks_set_counting(int);
__attribute__((weak)) int psleak_hooks_trace_start(size_t);
__attribute__((weak)) const char* psleak_hooks_unwinder(void);
__attribute__((weak)) size_t psleak_hooks_trace_drain(
    void (*)(const PsleakTracedAllocation*, void*), void*);
}

namespace psleak::platform {

bool allocationHooksActive() noexcept {
  return psleak_hooks_read != nullptr && psleak_hooks_counting != nullptr &&
         psleak_hooks_counting() != 0;
}

void stopAllocationCounting() noexcept {
  if (psleak_hooks_set_counting != nullptr) psleak_hooks_set_counting(0);
}

namespace {
std::string gCountingProblem;
}  // namespace

std::string verifyAllocationCounting() {
  if (!allocationHooksActive()) return {};
  // Through volatile pointers: a compiler may drop a malloc whose block is never used.
  void* (*volatile allocate)(std::size_t) = std::malloc;
  void (*volatile release)(void*) = std::free;
  PsleakAllocationCounters before{}, during{}, after{};
  psleak_hooks_read(&before);
  void* block = allocate(4096);
  psleak_hooks_read(&during);
  release(block);
  psleak_hooks_read(&after);
  if (block != nullptr && during.liveBlocks > before.liveBlocks &&
      after.liveBlocks < during.liveBlocks) {
    return {};
  }
  stopAllocationCounting();
  gCountingProblem =
      "the allocation counters do not see malloc (something else serves it, such as "
      "valgrind)";
  return gCountingProblem;
}

const std::string& allocationCountingProblem() noexcept {
  return gCountingProblem;
}

std::optional<AllocationCounters> readAllocationCounters() noexcept {
  if (!allocationHooksActive()) return std::nullopt;
  PsleakAllocationCounters raw{};
  psleak_hooks_read(&raw);
  return AllocationCounters{raw.liveBlocks, raw.liveBytes, raw.mappedBytes};
}

bool startAllocationTrace(std::size_t capacity) {
  if (!allocationHooksActive() || psleak_hooks_trace_start == nullptr) return false;
  return psleak_hooks_trace_start(capacity) != 0;
}

std::string allocationTraceUnwinder() {
  return psleak_hooks_unwinder != nullptr ? psleak_hooks_unwinder() : "";
}

AllocationTrace finishAllocationTrace() {
  AllocationTrace trace;
  if (psleak_hooks_trace_drain == nullptr) return trace;
  trace.dropped = psleak_hooks_trace_drain(
      [](const PsleakTracedAllocation* record, void* context) {
        auto* live = static_cast<std::vector<TracedAllocation>*>(context);
        TracedAllocation allocation;
        allocation.size = record->size;
        allocation.frames.assign(record->frames, record->frames + record->frameCount);
        for (int i = 0; i < record->pythonFrameCount; ++i) {
          allocation.pythonFrames.push_back({record->pythonFrames[i].code, record->pythonFrames[i].line});
        }
        live->push_back(std::move(allocation));
      },
      &trace.live);
  return trace;
}

}  // namespace psleak::platform
