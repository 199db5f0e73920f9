#include "text_match.h"

#include <cstdint>
#include <iterator>

namespace switchboard::routing {

namespace {

// U+00C0 to U+017F, generated from Unicode: lower case, then the base letter of the canonical
// decomposition when there is one.
constexpr char16_t kLatinFold[] = {
    'a',    'a', 'a',    'a',    'a',    'a',    0x00E6, 'c',    'e',    'e',    'e',    'e',
    'i',    'i', 'i',    'i',    0x00F0, 'n',    'o',    'o',    'o',    'o',    'o',    0x00D7,
    0x00F8, 'u', 'u',    'u',    'u',    'y',    0x00FE, 0x00DF, 'a',    'a',    'a',    'a',
    'a',    'a', 0x00E6, 'c',    'e',    'e',    'e',    'e',    'i',    'i',    'i',    'i',
    0x00F0, 'n', 'o',    'o',    'o',    'o',    'o',    0x00F7, 0x00F8, 'u',    'u',    'u',
    'u',    'y', 0x00FE, 'y',    'a',    'a',    'a',    'a',    'a',    'a',    'c',    'c',
    'c',    'c', 'c',    'c',    'c',    'c',    'd',    'd',    0x0111, 0x0111, 'e',    'e',
    'e',    'e', 'e',    'e',    'e',    'e',    'e',    'e',    'g',    'g',    'g',    'g',
    'g',    'g', 'g',    'g',    'h',    'h',    0x0127, 0x0127, 'i',    'i',    'i',    'i',
    'i',    'i', 'i',    'i',    'i',    0x0131, 0x0133, 0x0133, 'j',    'j',    'k',    'k',
    0x0138, 'l', 'l',    'l',    'l',    'l',    'l',    0x0140, 0x0140, 0x0142, 0x0142, 'n',
    'n',    'n', 'n',    'n',    'n',    0x0149, 0x014B, 0x014B, 'o',    'o',    'o',    'o',
    'o',    'o', 0x0153, 0x0153, 'r',    'r',    'r',    'r',    'r',    'r',    's',    's',
    's',    's', 's',    's',    's',    's',    't',    't',    't',    't',    0x0167, 0x0167,
    'u',    'u', 'u',    'u',    'u',    'u',    'u',    'u',    'u',    'u',    'u',    'u',
    'w',    'w', 'y',    'y',    'y',    'z',    'z',    'z',    'z',    'z',    'z',    0x017F,
};
static_assert(std::size(kLatinFold) == 0x180 - 0xC0);

// Invalid bytes decode to kInvalid + byte, beyond Unicode, so they only equal themselves.
constexpr char32_t kInvalid = 0x110000;

bool isContinuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// The code point at `pos`, advancing `pos` past it.
char32_t decode(std::string_view s, std::size_t& pos) {
  const auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) {
    ++pos;
    return c;
  }
  std::size_t length = c >= 0xC2 && c <= 0xDF   ? 2
                       : c >= 0xE0 && c <= 0xEF ? 3
                       : c >= 0xF0 && c <= 0xF4 ? 4
                                                : 0;
  if (length == 0 || pos + length > s.size()) {
    ++pos;
    return kInvalid + c;
  }
  char32_t cp = c & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(s[pos + i]);
    if (!isContinuation(next)) {
      ++pos;
      return kInvalid + c;
    }
    cp = (cp << 6) | (next & 0x3F);
  }
  pos += length;
  return cp;
}

char32_t fold(char32_t c) {
  if (c < 0x80) {
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
  }
  if (c >= 0xC0 && c < 0x180) {
    return kLatinFold[c - 0xC0];
  }
  return c;
}

void encode(char32_t c, std::string& out) {
  if (c >= kInvalid) {
    out.push_back(static_cast<char>(c - kInvalid));
  } else if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Whether `pattern` matches `text` from `pos`, comparing code point by code point.
bool matchesAt(std::string_view text, std::size_t pos, std::string_view pattern,
               bool patternFolded) {
  std::size_t p = 0;
  while (p < pattern.size()) {
    if (pos >= text.size()) {
      return false;
    }
    const char32_t want = patternFolded ? decode(pattern, p) : fold(decode(pattern, p));
    if (fold(decode(text, pos)) != want) {
      return false;
    }
  }
  return true;
}

std::size_t codePoints(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < text.size(); ++count) {
    decode(text, pos);
  }
  return count;
}

} // namespace

std::string foldText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    encode(fold(decode(text, pos)), out);
  }
  return out;
}

bool matchText(TextOp op, std::string_view text, std::string_view pattern, bool patternFolded) {
  switch (op) {
  case TextOp::StartsWith:
    return matchesAt(text, 0, pattern, patternFolded);
  case TextOp::EndsWith: {
    // Folding maps code points one to one, so the suffix has as many as the pattern.
    const std::size_t want = codePoints(pattern);
    std::size_t have = codePoints(text);
    if (want > have) {
      return false;
    }
    std::size_t pos = 0;
    for (; have > want; --have) {
      decode(text, pos);
    }
    return matchesAt(text, pos, pattern, patternFolded);
  }
  case TextOp::Contains: {
    if (pattern.empty()) {
      return true;
    }
    std::size_t p = 0;
    const char32_t first = patternFolded ? decode(pattern, p) : fold(decode(pattern, p));
    if (first < 0x80) {
      // Only that byte, its upper case or a Latin letter (lead byte C3 to C5) can fold to an
      // ASCII character: try the pattern only there. None of them continues a UTF-8 sequence.
      const auto lower = static_cast<unsigned char>(first);
      const auto upper =
          static_cast<unsigned char>(lower >= 'a' && lower <= 'z' ? lower - 0x20 : lower);
      for (std::size_t pos = 0; pos < text.size(); ++pos) {
        const auto c = static_cast<unsigned char>(text[pos]);
        if ((c == lower || c == upper || (c >= 0xC3 && c <= 0xC5)) &&
            matchesAt(text, pos, pattern, patternFolded)) {
          return true;
        }
      }
      return false;
    }
    for (std::size_t pos = 0; pos < text.size();) {
      if (matchesAt(text, pos, pattern, patternFolded)) {
        return true;
      }
      decode(text, pos);
    }
    return false;
  }
  }
  return false;
}

std::string_view cutText(std::string_view text, std::size_t maxBytes) {
  if (text.size() <= maxBytes) {
    return text;
  }
  std::size_t end = maxBytes;
  while (end > 0 && isContinuation(static_cast<unsigned char>(text[end]))) {
    --end;
  }
  return text.substr(0, end);
}

} // namespace switchboard::routing
