#pragma once
// What an ELF file's section headers say about how well its addresses can be named.

#include <string>
#include <string_view>

namespace psleak::platform::linux_elf {

// Whether the ELF file at `path` has a section of this name (".symtab", ".debug_info").
// False when the file cannot be read or is not an ELF file of this machine's class.
bool hasSection(const std::string& path, std::string_view name);

// The same, for the bytes of a whole file (for tests).
bool hasSectionInImage(std::string_view image, std::string_view name);

}  // namespace psleak::platform::linux_elf
