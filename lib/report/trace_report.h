#pragma once
// What `--trace` found: the call stacks holding the most memory still live after a
// traced run (filled by runner/allocation_trace.cpp).

#include <cstdint>
#include <string>
#include <vector>

namespace psleak {

// How a native frame's function name was found, and so how far to trust it.
enum class FrameNaming {
  DebugInfo,      // the object's debug info: the function, with file:line
  Symbol,         // the symbol whose extent holds the address: the function's own name
  NearestSymbol,  // only the nearest exported symbol before the address (no debug info
                  // for the object): the name of some other function, not this one
  Unknown,        // no symbol at all: "??"
};

struct TraceFrame {
  std::string function;  // "leak_malloc_1k", "??" when unknown
  std::string object;    // shared object path
  std::string file;      // source file, when the object has debug info
  int line = 0;
  FrameNaming naming = FrameNaming::DebugInfo;  // native frames; Python frames are exact

  // The name says which function ran (debug info or the symbol holding the address).
  bool hasExactName() const {
    return naming == FrameNaming::DebugInfo || naming == FrameNaming::Symbol;
  }
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
