// Symbols from dladdr (object, exported symbol) and addr2line from binutils (function
// and file:line from debug info, which dladdr cannot see for static functions), and
// whether each name is the function's own or only the nearest symbol to the address.

#include <cxxabi.h>
#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "elf_sections.h"
#include "psleak/platform/run_program.h"
#include "psleak/platform/symbolizer.h"

namespace psleak::platform {
namespace {

struct ObjectAddresses {
  std::uintptr_t bias = 0;  // load bias: 0 for a position-dependent executable
  std::vector<std::uintptr_t> addresses;
  bool hasSymbolTable = false;  // .symtab: not stripped
};

// Seconds one addr2line run may take: a large libpython with full debug info takes a
// few; the trace is reported without file:line rather than never.
constexpr int kAddr2lineTimeoutMs = 60000;
// Addresses per addr2line run, so that its command line stays far below ARG_MAX.
constexpr std::size_t kAddressesPerRun = 2000;

// The next line of `text` from `pos` (without its end of line); empty at the end.
std::string nextLine(const std::string& text, std::size_t& pos) {
  if (pos >= text.size()) return {};
  std::size_t end = text.find('\n', pos);
  if (end == std::string::npos) end = text.size();
  std::string line = text.substr(pos, end - pos);
  pos = end + 1;
  while (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// A C++ symbol as addr2line -C prints it; a C symbol unchanged.
std::string demangled(const std::string& symbol) {
  int status = 0;
  char* text = abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status);
  if (status != 0 || text == nullptr) return symbol;
  std::string result = text;
  std::free(text);
  return result;
}

// Asks addr2line about the addresses of one object, a batch per process. No shell: the
// object's path goes to addr2line as one argument, whatever it contains.
void addSourceLocations(const std::string& object, const ObjectAddresses& entry,
                        std::map<std::uintptr_t, SymbolizedFrame>& frames) {
  for (std::size_t first = 0; first < entry.addresses.size(); first += kAddressesPerRun) {
    const std::size_t last = std::min(entry.addresses.size(), first + kAddressesPerRun);
    std::vector<std::string> argv = {"addr2line", "-C", "-f", "-e", object};
    for (std::size_t i = first; i < last; ++i) {
      char offset[32];
      std::snprintf(offset, sizeof offset, "0x%zx",
                    static_cast<std::size_t>(entry.addresses[i] - 1 - entry.bias));
      argv.emplace_back(offset);
    }
    const ProgramOutput answer = runProgram(argv, kAddr2lineTimeoutMs);
    if (!answer.succeeded()) return;  // no binutils, or it failed: dladdr's names stand
    std::size_t pos = 0;
    for (std::size_t i = first; i < last; ++i) {
      const std::string function = nextLine(answer.output, pos);
      std::string location = nextLine(answer.output, pos);
      if (function.empty() && location.empty()) break;
      SymbolizedFrame& frame = frames[entry.addresses[i]];
      if (const std::size_t cut = location.find(" ("); cut != std::string::npos) location.resize(cut);
      const std::size_t colon = location.rfind(':');
      if (colon != std::string::npos && location.compare(0, 2, "??") != 0) {
        const int line = std::atoi(location.c_str() + colon + 1);
        if (line > 0) {
          frame.file = location.substr(0, colon);
          frame.line = line;
        }
      }
      if (function.empty() || function == "??") continue;
      if (!frame.file.empty()) {
        // Debug info: the function (an inlined one where the code was inlined).
        frame.function = function;
        frame.nameCoversAddress = true;
      } else if (frame.nameCoversAddress) {
        // dladdr's symbol holds the address; addr2line may prefer an alias of it
        // (__GI_getpid for getpid): keep the exported name, demangled.
        frame.function = demangled(frame.function);
      } else {
        // Without debug info addr2line names the nearest symbol before the address, as
        // far away as it is. From a full symbol table (.symtab: static functions too)
        // that is the function; from the exported symbols alone (a stripped object) it
        // is some other function.
        frame.function = function;
        frame.nameCoversAddress = entry.hasSymbolTable;
      }
    }
  }
}

// A demangled name of psleak's own code (its namespace).
bool namesPsleakCode(const std::string& demangledName) {
  return demangledName.compare(0, 8, "psleak::") == 0;
}

// Which of the executable's frames are psleak's own, by the ELF symbol that holds the
// address (dladdr's, before addr2line may name a function inlined there instead). A
// nearest-symbol guess says nothing, and leaves both false.
void classifyExecutableFrame(const char* symbol, SymbolizedFrame& frame) {
  if (!symbol || !frame.nameCoversAddress) return;
  static const std::set<std::string> kAllocatorEntries = {
      "malloc", "calloc", "realloc", "reallocarray", "memalign", "aligned_alloc",
      "posix_memalign", "valloc", "pvalloc", "free", "mmap", "mmap64", "munmap", "mremap"};
  frame.allocatorEntry = kAllocatorEntries.count(symbol) != 0;
  frame.psleakCode = namesPsleakCode(demangled(symbol));
}

// What addr2line needs taken off a runtime address of the object holding `address`: the
// load bias (the link map's l_addr), not dli_fbase, the first mapping's address, which a
// position-dependent executable was linked at.
std::uintptr_t loadBias(std::uintptr_t address, const Dl_info& info) {
  struct link_map* map = nullptr;
  Dl_info ignored{};
  if (::dladdr1(reinterpret_cast<void*>(address), &ignored, reinterpret_cast<void**>(&map),
                RTLD_DL_LINKMAP) != 0 &&
      map != nullptr) {
    return static_cast<std::uintptr_t>(map->l_addr);
  }
  return reinterpret_cast<std::uintptr_t>(info.dli_fbase);
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
    void* symbolEntry = nullptr;  // RTLD_DL_SYMENT: the ElfW(Sym) of dli_sname
    // A return address points after the call: look up the call itself.
    if (::dladdr1(reinterpret_cast<void*>(address - 1), &info, &symbolEntry, RTLD_DL_SYMENT) != 0) {
      const auto* symbol = static_cast<const ElfW(Sym)*>(symbolEntry);
      if (info.dli_fname) frame.object = info.dli_fname;
      if (info.dli_sname) {
        frame.function = info.dli_sname;
        // dladdr names the nearest symbol at or before the address, however far: only
        // within the symbol's size is it the function that ran.
        const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(info.dli_saddr);
        frame.nameCoversAddress =
            symbol != nullptr && address - 1 >= start && address - 1 - start < symbol->st_size;
      }
      frame.inExecutable = info.dli_fbase == self.dli_fbase;
      if (frame.inExecutable) classifyExecutableFrame(info.dli_sname, frame);
      if (info.dli_fname && info.dli_fname[0] != '\0') {
        ObjectAddresses& entry = byObject[info.dli_fname];
        if (entry.addresses.empty()) entry.bias = loadBias(address - 1, info);  // once an object
        entry.addresses.push_back(address);
      }
    }
    frames[address] = frame;
  }
  for (auto& [object, entry] : byObject) {
    entry.hasSymbolTable = linux_elf::hasSection(object, ".symtab");
    addSourceLocations(object, entry, frames);
  }
  // psleak's functions that are not exported (internal linkage) are named by the
  // executable's debug info or full symbol table.
  for (auto& [address, frame] : frames) {
    if (frame.inExecutable && frame.nameCoversAddress && namesPsleakCode(frame.function)) {
      frame.psleakCode = true;
    }
  }
  return frames;
}

}  // namespace psleak::platform
