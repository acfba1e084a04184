#pragma once
// Turning return addresses into function, shared object and file:line.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace psleak::platform {

struct SymbolizedFrame {
  std::uintptr_t address = 0;
  std::string function;  // demangled, "??" when unknown
  std::string object;    // shared object or executable path
  std::string file;      // source file where debug info exists, else empty
  int line = 0;
  // Told by the symbol, not only by the object: the executable may hold the interpreter
  // too (a static libpython), whose frames are part of the target's stack.
  bool inExecutable = false;    // in the psleak executable (its code or an embedded library)
  bool psleakCode = false;      // a function of psleak's own (namespace psleak)
  bool allocatorEntry = false;  // one of the allocator entry points psleak's hooks define
  // `function` is the function that ran: debug info named it, or the address lies
  // inside the named symbol (within its ELF size), or the name comes from a full symbol
  // table (.symtab). False when the name is only the nearest exported symbol before the
  // address: without debug info or .symtab, a static function is named after whatever
  // exported function precedes it.
  bool nameCoversAddress = false;
};

// Symbolizes every distinct address (return addresses: looked up at address - 1).
// Uses dladdr for the object and symbol, and addr2line (binutils) for file:line where
// the object has debug info; dladdr1's symbol size and the object's section headers
// tell whether a name is the function's own. Never throws; unknown parts stay empty.
std::map<std::uintptr_t, SymbolizedFrame> symbolize(const std::vector<std::uintptr_t>& addresses);

}  // namespace psleak::platform
