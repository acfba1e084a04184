// The ELF section lookup the symbolizer uses to tell a full symbol table from the
// exported symbols alone, and the symbolizer's judgement of whether a name is the
// function's own.

#include "linux/elf_sections.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "psleak/platform/symbolizer.h"

namespace psleak::platform {
namespace {

std::string selfImage() {
  std::ifstream file("/proc/self/exe", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

TEST(ElfSections, FindsTheSectionsOfThisExecutable) {
  // The test binary is built with debug info and not stripped.
  EXPECT_TRUE(linux_elf::hasSection("/proc/self/exe", ".text"));
  EXPECT_TRUE(linux_elf::hasSection("/proc/self/exe", ".symtab"));
  EXPECT_TRUE(linux_elf::hasSection("/proc/self/exe", ".debug_info"));
  EXPECT_FALSE(linux_elf::hasSection("/proc/self/exe", ".no_such_section"));
  EXPECT_FALSE(linux_elf::hasSection("/proc/self/exe", ".tex"));  // a prefix is not a name
}

TEST(ElfSections, ImageAndFileAgree) {
  const std::string image = selfImage();
  ASSERT_GT(image.size(), 64u);
  EXPECT_TRUE(linux_elf::hasSectionInImage(image, ".symtab"));
  EXPECT_FALSE(linux_elf::hasSectionInImage(image, ".no_such_section"));
}

TEST(ElfSections, WhatIsNotAnElfFileHasNoSections) {
  EXPECT_FALSE(linux_elf::hasSection("/nonexistent/libx.so", ".symtab"));
  EXPECT_FALSE(linux_elf::hasSection("/proc/self/status", ".symtab"));  // text
  EXPECT_FALSE(linux_elf::hasSection("/proc/self", ".symtab"));         // a directory
  EXPECT_FALSE(linux_elf::hasSectionInImage("", ".symtab"));
  EXPECT_FALSE(linux_elf::hasSectionInImage("\x7f" "ELF", ".symtab"));
}

TEST(ElfSections, ATruncatedOrDamagedImageIsReadSafely) {
  const std::string image = selfImage();
  ASSERT_GT(image.size(), 4096u);
  // The header alone: the section headers lie past the end.
  EXPECT_FALSE(linux_elf::hasSectionInImage(image.substr(0, 64), ".symtab"));
  EXPECT_FALSE(linux_elf::hasSectionInImage(image.substr(0, image.size() / 2), ".symtab"));
  // Section header offset, count and name index pointing anywhere.
  for (std::size_t field : {0x28u, 0x3Cu, 0x3Eu}) {  // e_shoff, e_shnum, e_shstrndx (ELF64)
    for (unsigned char value : {0x00, 0x7F, 0xFF}) {
      std::string damaged = image;
      for (std::size_t i = 0; i < 2; ++i) damaged[field + i] = static_cast<char>(value);
      linux_elf::hasSectionInImage(damaged, ".symtab");  // must not crash or read out of bounds
    }
  }
}

TEST(Symbolizer, AnExportedFunctionIsNamedExactly) {
  // getpid is exported by the C library: dladdr's symbol holds the address.
  const auto address = reinterpret_cast<std::uintptr_t>(&::getpid) + 2;  // looked up at +1
  const auto frames = symbolize({address});
  const SymbolizedFrame& frame = frames.at(address);
  EXPECT_NE(frame.function.find("getpid"), std::string::npos) << frame.function;
  EXPECT_TRUE(frame.nameCoversAddress) << frame.function;
  EXPECT_NE(frame.object.find("libc"), std::string::npos) << frame.object;
}

}  // namespace
}  // namespace psleak::platform
