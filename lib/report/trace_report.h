#pragma once
// What `--trace` found: the call stacks holding the most memory still live after a
// traced run (filled by runner/allocation_trace.cpp).

#include <cstdint>
#include <string>
#include <vector>

namespace psleak {

struct TraceFrame {
  std::string function;  // "leak_malloc_1k", "??" when unknown
  std::string object;    // shared object path
  std::string file;      // source file, when the object has debug info
  int line = 0;
};

struct TraceSite {
  std::int64_t count = 0;  // live allocations from this stack
  std::int64_t bytes = 0;
  std::vector<TraceFrame> frames;  // innermost first, psleak's own frames removed
  // The Python frames of the thread running the calls, innermost first (object empty).
  std::vector<TraceFrame> pythonFrames;
};

struct TraceReport {
  std::int64_t calls = 0;
  double seconds = 0.0;          // wall time of the traced calls
  std::string unwinder;          // "libunwind" or "backtrace"
  std::int64_t dropped = 0;      // allocations the trace table had no room for
  std::int64_t liveCount = 0;    // all live allocations of the run
  std::int64_t liveBytes = 0;
  std::vector<TraceSite> sites;  // the top sites, largest first
};

}  // namespace psleak
