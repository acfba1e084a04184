#include "runner/allocation_trace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
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

// Identical stacks come from the same call site: allocations are grouped by their raw
// return addresses and Python frames.
using StackKey = std::pair<std::vector<std::uintptr_t>, std::vector<platform::PythonFrameRef>>;

FrameNaming namingOf(const platform::SymbolizedFrame& symbol) {
  if (!symbol.file.empty()) return FrameNaming::DebugInfo;
  if (symbol.function.empty() || symbol.function == "??") return FrameNaming::Unknown;
  return symbol.nameCoversAddress ? FrameNaming::Symbol : FrameNaming::NearestSymbol;
}

// The innermost frames are psleak's hooks and unwinder call, up to the allocator entry
// point (malloc, mmap, ...) the allocating code called: its caller is the first frame
// that belongs to the stack. Were no entry point recognized (its name unknown), the
// leading frames of the executable are taken for the hooks, which they are unless the
// interpreter is linked into the executable.
std::size_t firstCallerFrame(const std::vector<std::uintptr_t>& addresses,
                             const std::map<std::uintptr_t, platform::SymbolizedFrame>& symbols) {
  std::size_t first = 0;
  bool entryFound = false;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    const platform::SymbolizedFrame& symbol = symbols.at(addresses[i]);
    if (symbol.allocatorEntry) {
      first = i + 1;  // realloc's hook may call malloc's: the outermost entry counts
      entryFound = true;
    } else if (!symbol.inExecutable || (symbol.psleakCode && entryFound)) {
      break;
    }
  }
  if (entryFound) return first;
  while (first < addresses.size() && symbols.at(addresses[first]).inExecutable) ++first;
  return first;
}

}  // namespace

TraceReport traceLiveAllocations(Workload& workload, const PythonFrameRecordingMaker& recordPythonFrames,
                                 std::int64_t calls, std::size_t top, Progress* progress) {
  if (!platform::allocationHooksActive()) {
    throw InternalError("--trace needs psleak's allocator hooks, which are off (PSLEAK_NO_HOOKS?)");
  }
  workload.clearCaches();
  // Before the trace starts: the recorder allocates its tables.
  const std::unique_ptr<PythonFrameRecording> pythonFrames = recordPythonFrames();
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
  pythonFrames->stop();

  TraceReport report;
  report.calls = calls;
  report.seconds = seconds;
  report.dropped = static_cast<std::int64_t>(trace.dropped);
  report.unwinder = platform::allocationTraceUnwinder();
  std::map<StackKey, RawSite> byStack;
  for (platform::TracedAllocation& allocation : trace.live) {
    RawSite& site = byStack[{std::move(allocation.frames), std::move(allocation.pythonFrames)}];
    ++site.count;
    site.bytes += static_cast<std::int64_t>(allocation.size);
    ++report.liveCount;
    report.liveBytes += static_cast<std::int64_t>(allocation.size);
  }
  std::vector<std::pair<const StackKey*, RawSite>> ranked;
  for (const auto& [stack, site] : byStack) ranked.emplace_back(&stack, site);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second.bytes != b.second.bytes ? a.second.bytes > b.second.bytes
                                            : a.second.count > b.second.count;
  });
  if (ranked.size() > top) ranked.resize(top);

  // Symbolize only the frames of the sites shown.
  std::vector<std::uintptr_t> addresses;
  for (const auto& entry : ranked) {
    addresses.insert(addresses.end(), entry.first->first.begin(), entry.first->first.end());
  }
  if (progress) {
    char step[48];
    std::snprintf(step, sizeof step, "symbolizing %zu addresses", addresses.size());
    progress->step(step, 0, 0);
  }
  const auto symbols = platform::symbolize(addresses);
  for (const auto& [stack, raw] : ranked) {
    TraceSite site;
    site.count = raw.count;
    site.bytes = raw.bytes;
    for (const platform::PythonFrameRef& frame : stack->second) {
      site.pythonFrames.push_back(pythonFrames->describeFrame(frame.code, frame.line));
    }
    const std::vector<std::uintptr_t>& addresses = stack->first;
    for (std::size_t i = firstCallerFrame(addresses, symbols); i < addresses.size(); ++i) {
      const platform::SymbolizedFrame& symbol = symbols.at(addresses[i]);
      // psleak's first frame after the target's is the call loop, and what lies beyond
      // it (main, the C library's start-up) says nothing about the allocation.
      if (symbol.psleakCode) break;
      site.frames.push_back(
          {symbol.function, symbol.object, symbol.file, symbol.line, namingOf(symbol)});
    }
    report.sites.push_back(std::move(site));
  }
  return report;
}

}  // namespace psleak
