#include "switchboard/xml_text.h"

namespace switchboard::xml {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// The length of the well-formed UTF-8 sequence of an XML character at the start of `text`, or 0.
std::size_t validSequence(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  auto continuation = [&](std::size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char lead = byte(0);
  char32_t c = 0;
  std::size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    c = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    c = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    c = lead & 0x07;
  } else {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if (!continuation(i)) {
      return 0;
    }
    c = (c << 6) | (byte(i) & 0x3F);
  }
  bool overlong = (length == 3 && c < 0x800) || (length == 4 && c < 0x10000);
  bool surrogate = c >= 0xD800 && c <= 0xDFFF;
  bool forbidden = c == 0xFFFE || c == 0xFFFF || c > 0x10FFFF;
  return overlong || surrogate || forbidden ? 0 : length;
}

} // namespace

void appendUtf8(std::u16string_view text, std::string& out) {
  // Sized for the worst case (3 bytes per UTF-16 unit) and trimmed after: one allocation at most,
  // and a tight loop for the ASCII that most of a message is.
  std::size_t ascii = 0;
  while (ascii < text.size() && text[ascii] < 0x80) {
    ++ascii;
  }
  std::size_t start = out.size();
  out.resize(start + ascii + (text.size() - ascii) * 3);
  char* next = out.data() + start;
  for (std::size_t i = 0; i < ascii; ++i) {
    next[i] = static_cast<char>(text[i]);
  }
  next += ascii;
  auto put = [&next](unsigned value) { *next++ = static_cast<char>(value); };
  for (std::size_t i = ascii; i < text.size(); ++i) {
    char32_t c = text[i];
    if (c < 0x80) {
      put(c);
      continue;
    }
    if (c >= 0xD800 && c <= 0xDFFF) {
      bool paired =
          c <= 0xDBFF && i + 1 < text.size() && text[i + 1] >= 0xDC00 && text[i + 1] <= 0xDFFF;
      if (!paired) {
        c = 0xFFFD;
      } else {
        c = 0x10000 + ((c - 0xD800) << 10) + (text[++i] - 0xDC00);
      }
    }
    if (c < 0x800) {
      put(0xC0 | (c >> 6));
    } else if (c < 0x10000) {
      put(0xE0 | (c >> 12));
      put(0x80 | ((c >> 6) & 0x3F));
    } else {
      put(0xF0 | (c >> 18));
      put(0x80 | ((c >> 12) & 0x3F));
      put(0x80 | ((c >> 6) & 0x3F));
    }
    put(0x80 | (c & 0x3F));
  }
  out.resize(static_cast<std::size_t>(next - out.data()));
}

void appendEscaped(std::string_view text, std::string& out, bool attribute) {
  std::size_t plain = 0; // start of the run of bytes that need no change
  auto flush = [&](std::size_t end) { out.append(text.data() + plain, end - plain); };
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::string_view replacement;
    std::size_t length = 1;
    if (c >= 0x80) {
      length = validSequence(text.substr(i));
      if (length != 0) {
        i += length;
        continue;
      }
      length = 1;
      replacement = kReplacement;
    } else {
      switch (c) {
      case '&':
        replacement = "&amp;";
        break;
      case '<':
        replacement = "&lt;";
        break;
      case '>':
        replacement = "&gt;";
        break;
      case '"':
        replacement = attribute ? "&quot;" : "";
        break;
      case '\r':
        replacement = "&#13;";
        break;
      case '\n':
        replacement = attribute ? "&#10;" : "";
        break;
      case '\t':
        replacement = attribute ? "&#9;" : "";
        break;
      default:
        replacement = c < 0x20 ? kReplacement : "";
      }
      if (replacement.empty()) {
        ++i;
        continue;
      }
    }
    flush(i);
    out += replacement;
    i += length;
    plain = i;
  }
  flush(text.size());
}

} // namespace switchboard::xml
