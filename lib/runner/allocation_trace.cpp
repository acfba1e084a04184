#include "runner/allocation_trace.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "core/errors.h"
#include "psleak/platform/allocation_counters.h"
#include "psleak/platform/symbolizer.h"

namespace psleak {
namespace {

struct RawSite {
  std::int64_t count = 0;
  std::int64_t bytes = 0;
};

}  // namespace

TraceReport traceLiveAllocations(Workload& workload, std::int64_t calls, std::size_t top) {
  if (!platform::allocationHooksActive()) {
    throw InternalError("--trace needs psleak's allocator hooks, which are off (PSLEAK_NO_HOOKS?)");
  }
  workload.clearCaches();
  if (!platform::startAllocationTrace(kTraceCapacity)) {
    throw InternalError("--trace: cannot map the allocation trace table");
  }
  // Whatever happens in the calls, the hooks must stop recording.
  struct StopOnExit {
    ~StopOnExit() {
      if (!finished) platform::finishAllocationTrace();
    }
    bool finished = false;
  } stop;
  const auto start = std::chrono::steady_clock::now();
  workload.call(calls);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  workload.clearCaches();
  platform::AllocationTrace trace = platform::finishAllocationTrace();
  stop.finished = true;

  TraceReport report;
  report.calls = calls;
  report.seconds = seconds;
  report.dropped = static_cast<std::int64_t>(trace.dropped);
  // Identical stacks come from the same call site: group by the raw return addresses.
  std::map<std::vector<std::uintptr_t>, RawSite> byStack;
  for (const platform::TracedAllocation& allocation : trace.live) {
    RawSite& site = byStack[allocation.frames];
    ++site.count;
    site.bytes += static_cast<std::int64_t>(allocation.size);
    ++report.liveCount;
    report.liveBytes += static_cast<std::int64_t>(allocation.size);
  }
  std::vector<std::pair<const std::vector<std::uintptr_t>*, RawSite>> ranked;
  for (const auto& [frames, site] : byStack) ranked.emplace_back(&frames, site);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second.bytes != b.second.bytes ? a.second.bytes > b.second.bytes
                                            : a.second.count > b.second.count;
  });
  if (ranked.size() > top) ranked.resize(top);

  // Symbolize only the frames of the sites shown.
  std::vector<std::uintptr_t> addresses;
  for (const auto& entry : ranked) addresses.insert(addresses.end(), entry.first->begin(), entry.first->end());
  const auto symbols = platform::symbolize(addresses);
  for (const auto& [frames, raw] : ranked) {
    TraceSite site;
    site.count = raw.count;
    site.bytes = raw.bytes;
    for (std::uintptr_t address : *frames) {
      const platform::SymbolizedFrame& symbol = symbols.at(address);
      if (symbol.inPsleak) continue;  // the hooks, the unwinder call, the call loop
      site.frames.push_back({symbol.function, symbol.object, symbol.file, symbol.line});
    }
    report.sites.push_back(std::move(site));
  }
  return report;
}

}  // namespace psleak
