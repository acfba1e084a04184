#pragma once
// Text made safe for an XML 1.0 document (the JUnit and SVG renderers): markup
// characters escaped, characters XML 1.0 does not allow (control characters other than
// tab, newline and carriage return; U+FFFE, U+FFFF) dropped, and bytes that are not
// UTF-8 (a crashed target's output can hold anything) replaced by U+FFFD.

#include <cstddef>
#include <string>
#include <string_view>

namespace psleak {

// For element content: & < > " ' escaped; newlines kept, carriage returns as &#13; (a
// parser would turn a raw "\r\n" into "\n").
std::string xmlText(std::string_view text);

// For an attribute value: as xmlText, and tab, newline and carriage return as character
// references, which survive a parser's attribute-value normalisation.
std::string xmlAttribute(std::string_view text);

// `text` cut to at most `maxChars` characters (code points, not bytes), ending in "…"
// when cut. Invalid UTF-8 counts one character per byte. Never splits a character.
std::string truncateText(std::string_view text, std::size_t maxChars);

}  // namespace psleak
