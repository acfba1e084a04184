#include "report/xml_text.h"

#include "core/utf8_text.h"

namespace psleak {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// XML 1.0's Char production.
bool allowedInXml(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

std::string escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const Utf8Char decoded = decodeUtf8(text, pos);
    if (decoded.length == 0) {
      out += kReplacement;
      ++pos;
      continue;
    }
    const char32_t c = decoded.codePoint;
    if (allowedInXml(c)) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;  // also keeps "]]>" out of text
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        case '\r':
          out += "&#13;";
          break;
        case '\n':
          out += attribute ? "&#10;" : "\n";
          break;
        case '\t':
          out += attribute ? "&#9;" : "\t";
          break;
        default:
          out.append(text.substr(pos, decoded.length));
      }
    }
    pos += decoded.length;
  }
  return out;
}

}  // namespace

std::string xmlText(std::string_view text) {
  return escape(text, false);
}

std::string xmlAttribute(std::string_view text) {
  return escape(text, true);
}

std::string truncateText(std::string_view text, std::size_t maxChars) {
  // Byte offsets where each character starts, up to maxChars + 1 of them.
  std::size_t pos = 0;
  std::size_t chars = 0;
  std::size_t cutAt = 0;  // where the text is cut if it is too long
  while (pos < text.size()) {
    if (chars + 1 == maxChars) cutAt = pos;
    if (chars == maxChars) {
      std::string out(text.substr(0, maxChars == 0 ? 0 : cutAt));
      if (maxChars > 0) out += "\xE2\x80\xA6";  // U+2026
      return out;
    }
    const std::size_t length = decodeUtf8(text, pos).length;
    pos += length == 0 ? 1 : length;
    ++chars;
  }
  return std::string(text);
}

}  // namespace psleak
