#pragma once
// Reading UTF-8 without trusting it: text from a target, a file or the command line can
// hold any bytes. The XML renderers and the --targets reader decode with this.

#include <cstddef>
#include <string_view>

namespace psleak {

// One character decoded at a byte offset: its code point and its length in bytes, or
// length 0 when the bytes there are not well-formed UTF-8 (overlong forms, surrogates,
// values past U+10FFFF and truncated sequences included).
struct Utf8Char {
  char32_t codePoint = 0;
  std::size_t length = 0;
};

// Decodes the character starting at text[pos] (pos < text.size()).
Utf8Char decodeUtf8(std::string_view text, std::size_t pos);

// The offset of the first byte that is not part of well-formed UTF-8, or
// std::string_view::npos when all of `text` is.
std::size_t firstInvalidUtf8(std::string_view text);

}  // namespace psleak
