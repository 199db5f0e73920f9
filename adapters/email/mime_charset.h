#pragma once

// Text in the charsets that mail uses, converted to UTF-8. UTF-8 and US-ASCII are checked and
// passed through; ISO-8859-1 and US-ASCII with 8-bit bytes are read as Windows-1252, as every
// mail program does (mislabelled Windows text is the common case); any other charset glibc's
// iconv knows (ISO-8859-15, KOI8-R, Shift_JIS ...) is converted by it.

#include <string>
#include <string_view>

namespace switchboard::email {

struct Utf8Text {
  std::string text;  ///< valid UTF-8, whatever came in
  bool known = true; ///< false: the charset is unknown, the bytes were read as UTF-8 or,
                     ///< where they are not UTF-8, as Windows-1252
  bool clean = true; ///< false: some bytes were not valid in the charset (replaced by U+FFFD)
};

/// Converts `bytes` in `charset` (a MIME charset name, any case; empty means US-ASCII) to UTF-8.
/// Never throws for bad input.
Utf8Text convertToUtf8(std::string_view bytes, std::string_view charset);

/// True when `bytes` is valid UTF-8.
bool isUtf8(std::string_view bytes);

/// `bytes` with every sequence that is not valid UTF-8 replaced by U+FFFD.
std::string repairUtf8(std::string_view bytes);

} // namespace switchboard::email
