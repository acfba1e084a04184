#include "elf_sections.h"

#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace psleak::platform::linux_elf {
namespace {

// Looks the name up in the section headers, reading only the ELF header, the section
// headers and their name table through `read(offset, size)`, which returns those bytes
// or fewer when they lie outside the file (an object with debug info can be hundreds of
// megabytes).
template <typename Read>
bool findSection(Read read, std::string_view name) {
  ElfW(Ehdr) header;
  const std::string headerBytes = read(0, sizeof header);
  if (headerBytes.size() != sizeof header) return false;
  std::memcpy(&header, headerBytes.data(), sizeof header);
  // Only this machine's class: the objects a process has loaded are of it.
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
      header.e_ident[EI_CLASS] != (sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32) ||
      header.e_shentsize != sizeof(ElfW(Shdr)) || header.e_shnum == 0 ||
      header.e_shstrndx >= header.e_shnum) {
    return false;
  }
  const std::string table = read(header.e_shoff, std::uint64_t{header.e_shnum} * sizeof(ElfW(Shdr)));
  if (table.size() != std::uint64_t{header.e_shnum} * sizeof(ElfW(Shdr))) return false;
  auto section = [&](std::size_t index) {
    ElfW(Shdr) entry;
    std::memcpy(&entry, table.data() + index * sizeof entry, sizeof entry);
    return entry;
  };
  const ElfW(Shdr) names = section(header.e_shstrndx);
  const std::string nameTable = read(names.sh_offset, names.sh_size);
  for (std::size_t i = 0; i < header.e_shnum; ++i) {
    const ElfW(Shdr) entry = section(i);
    if (entry.sh_name >= nameTable.size()) continue;
    const char* start = nameTable.data() + entry.sh_name;
    if (std::string_view(start, strnlen(start, nameTable.size() - entry.sh_name)) == name) return true;
  }
  return false;
}

// Section tables of real objects are small; a bigger size is a damaged header.
constexpr std::uint64_t kMaxRead = 16u << 20;

}  // namespace

bool hasSectionInImage(std::string_view image, std::string_view name) {
  return findSection(
      [image](std::uint64_t offset, std::uint64_t size) {
        if (offset > image.size() || size > kMaxRead) return std::string();
        return std::string(image.substr(offset, size));
      },
      name);
}

bool hasSection(const std::string& path, std::string_view name) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  return findSection(
      [&file](std::uint64_t offset, std::uint64_t size) {
        if (size > kMaxRead) return std::string();
        std::string bytes(size, '\0');
        file.clear();
        file.seekg(static_cast<std::streamoff>(offset));
        file.read(bytes.data(), static_cast<std::streamsize>(size));
        bytes.resize(file ? size : static_cast<std::size_t>(std::max<std::streamsize>(0, file.gcount())));
        return bytes;
      },
      name);
}

}  // namespace psleak::platform::linux_elf
