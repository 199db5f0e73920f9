#pragma once

// The text operators of the expression language (contains, startsWith, endsWith) compare texts
// folded: ASCII and Latin letters (U+00C0 to U+017F) lose case and accents, so "FATURA" contains
// "fatura" and "Cobrança" contains "cobranca". Letters without a decomposition into a base letter
// and accent (æ, ø, ß, đ, ł, œ ...) only lose case; everything else compares exactly, code point by
// code point. Invalid UTF-8 bytes compare as themselves. Matching allocates nothing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::routing {

enum class TextOp : std::uint8_t { Contains, StartsWith, EndsWith };

/// `text` folded (see above), in UTF-8. Literals are folded once, when expressions compile.
std::string foldText(std::string_view text);

/// Whether `text` folded contains, starts with or ends with `pattern` folded. `patternFolded`
/// says `pattern` is already folded (a compiled literal), which saves folding it again. An empty
/// pattern matches every text.
bool matchText(TextOp op, std::string_view text, std::string_view pattern, bool patternFolded);

/// At most the first `maxBytes` of `text`, cut before a UTF-8 character that would not fit.
std::string_view cutText(std::string_view text, std::size_t maxBytes);

} // namespace switchboard::routing
