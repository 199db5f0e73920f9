#pragma once

// Text conversions at the edge of the XML world: Xerces hands out UTF-16, the message types hold
// UTF-8, and written XML must carry only characters that XML 1.0 allows.

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard::xml {

/// Appends the UTF-16 text `text` to `out` as UTF-8. Unpaired surrogates become U+FFFD.
void appendUtf8(std::u16string_view text, std::string& out);

/// Appends `text` (UTF-8) to `out` escaped for element content, or for a double-quoted attribute
/// value when `attribute` is true. Carriage returns, and tabs and line feeds in attributes, are
/// written as character references so that a reader sees them unchanged. Bytes that are not UTF-8,
/// and characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF), become U+FFFD.
void appendEscaped(std::string_view text, std::string& out, bool attribute);

} // namespace switchboard::xml
