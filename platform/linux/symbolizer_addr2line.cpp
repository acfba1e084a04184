// Symbols from dladdr (object, exported symbol) and addr2line from binutils (function
// and file:line from debug info, which dladdr cannot see for static functions).

#include <dlfcn.h>

#include <cstdio>
#include <memory>
#include <set>

#include "psleak/platform/symbolizer.h"

namespace psleak::platform {
namespace {

struct ObjectAddresses {
  std::uintptr_t base = 0;
  std::vector<std::uintptr_t> addresses;
};

std::string shellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string readLine(FILE* stream) {
  std::string line;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, stream)) {
    line += buffer;
    if (!line.empty() && line.back() == '\n') break;
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

// Asks addr2line about every address of one object, in one process.
void addSourceLocations(const std::string& object, const ObjectAddresses& entry,
                        std::map<std::uintptr_t, SymbolizedFrame>& frames) {
  std::string command = "addr2line -C -f -e " + shellQuote(object);
  for (std::uintptr_t address : entry.addresses) {
    char offset[32];
    std::snprintf(offset, sizeof offset, " 0x%zx", static_cast<std::size_t>(address - 1 - entry.base));
    command += offset;
  }
  command += " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return;
  for (std::uintptr_t address : entry.addresses) {
    const std::string function = readLine(pipe.get());
    std::string location = readLine(pipe.get());
    if (function.empty() && location.empty()) break;
    SymbolizedFrame& frame = frames[address];
    if (!function.empty() && function != "??") frame.function = function;
    if (const std::size_t cut = location.find(" ("); cut != std::string::npos) location.resize(cut);
    const std::size_t colon = location.rfind(':');
    if (colon != std::string::npos && location.compare(0, 2, "??") != 0) {
      const int line = std::atoi(location.c_str() + colon + 1);
      if (line > 0) {
        frame.file = location.substr(0, colon);
        frame.line = line;
      }
    }
  }
}

}  // namespace

std::map<std::uintptr_t, SymbolizedFrame> symbolize(const std::vector<std::uintptr_t>& addresses) {
  std::map<std::uintptr_t, SymbolizedFrame> frames;
  Dl_info self{};
  ::dladdr(reinterpret_cast<void*>(&symbolize), &self);

  std::map<std::string, ObjectAddresses> byObject;
  for (std::uintptr_t address : std::set<std::uintptr_t>(addresses.begin(), addresses.end())) {
    SymbolizedFrame frame;
    frame.address = address;
    frame.function = "??";
    Dl_info info{};
    // A return address points after the call: look up the call itself.
    if (::dladdr(reinterpret_cast<void*>(address - 1), &info) != 0) {
      if (info.dli_fname) frame.object = info.dli_fname;
      if (info.dli_sname) frame.function = info.dli_sname;
      frame.inPsleak = info.dli_fbase == self.dli_fbase;
      if (info.dli_fname && info.dli_fname[0] != '\0') {
        ObjectAddresses& entry = byObject[info.dli_fname];
        entry.base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
        entry.addresses.push_back(address);
      }
    }
    frames[address] = frame;
  }
  for (const auto& [object, entry] : byObject) addSourceLocations(object, entry, frames);
  return frames;
}

}  // namespace psleak::platform
