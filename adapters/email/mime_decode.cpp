#include "mime_decode.h"
#include "mail_text.h"

#include "mime_charset.h"

#include <algorithm>
#include <array>
#include <vector>

namespace switchboard::email {
namespace {

using text::isSpace;
using text::lowerAscii;
using text::trim;

// Mailers break the 75-character limit with long file names; this is far beyond any of them.
constexpr std::size_t kMaxEncodedWord = 4096;

constexpr std::array<signed char, 256> makeBase64Table() {
  std::array<signed char, 256> table{};
  for (auto& entry : table) {
    entry = -1;
  }
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
  }
  return table;
}
constexpr std::array<signed char, 256> kBase64 = makeBase64Table();

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// Text outside encoded words: 8-bit bytes are most often raw UTF-8, else Windows text.
std::string rawText(std::string_view text) {
  if (isUtf8(text)) {
    return std::string(text);
  }
  return convertToUtf8(text, "windows-1252").text;
}

// Decodes one encoded word's text; false when it is not one.
bool decodeWord(std::string_view charset, char encoding, std::string_view text, std::string& out) {
  std::string bytes;
  if (encoding == 'b' || encoding == 'B') {
    bytes = decodeBase64(text).bytes;
  } else if (encoding == 'q' || encoding == 'Q') {
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c == '_') {
        bytes += ' ';
      } else if (c == '=' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
                 hexValue(text[i + 2]) >= 0) {
        bytes += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
        i += 2;
      } else {
        bytes += c;
      }
    }
  } else {
    return false;
  }
  // RFC 2231 lets a language follow the charset: "utf-8*pt".
  std::size_t star = charset.find('*');
  out += convertToUtf8(bytes, charset.substr(0, star)).text;
  return true;
}

// RFC 2231 %XX escapes.
std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
        hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

struct RawParameter {
  std::string name; ///< lower case, with its *N and * suffixes
  std::string value;
  bool quoted = false;
};

std::vector<RawParameter> splitParameters(std::string_view text) {
  std::vector<RawParameter> parameters;
  std::size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && (isSpace(text[at]) || text[at] == ';')) {
      ++at;
    }
    std::size_t nameStart = at;
    while (at < text.size() && text[at] != '=' && text[at] != ';') {
      ++at;
    }
    if (at >= text.size() || text[at] == ';') {
      continue; // a parameter without '=': ignored
    }
    RawParameter parameter;
    parameter.name = lowerAscii(trim(text.substr(nameStart, at - nameStart)));
    ++at;
    while (at < text.size() && isSpace(text[at])) {
      ++at;
    }
    if (at < text.size() && text[at] == '"') {
      parameter.quoted = true;
      ++at;
      while (at < text.size() && text[at] != '"') {
        if (text[at] == '\\' && at + 1 < text.size()) {
          ++at;
        }
        parameter.value += text[at++];
      }
      ++at;
      while (at < text.size() && text[at] != ';') {
        ++at;
      }
    } else {
      std::size_t valueStart = at;
      while (at < text.size() && text[at] != ';') {
        ++at;
      }
      parameter.value = std::string(trim(text.substr(valueStart, at - valueStart)));
    }
    if (!parameter.name.empty()) {
      parameters.push_back(std::move(parameter));
    }
  }
  return parameters;
}

} // namespace

Decoded decodeBase64(std::string_view text) {
  Decoded result;
  result.bytes.reserve(text.size() / 4 * 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    signed char value = kBase64[static_cast<unsigned char>(c)];
    if (value >= 0) {
      if (padding) {
        // Data after padding: a second base64 block glued on (seen in the wild); go on.
        padding = false;
        buffer = 0;
        bits = 0;
      }
      buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        result.bytes += static_cast<char>((buffer >> bits) & 0xFF);
      }
    } else if (c == '=') {
      padding = true;
    } else if (!isSpace(c)) {
      result.clean = false;
    }
  }
  // Left-over bits short of a byte are what a cut-off encoding leaves; six of them mean a lone
  // character, which no valid encoding ends with.
  if (bits >= 6) {
    result.clean = false;
  }
  return result;
}

Decoded decodeQuotedPrintable(std::string_view text) {
  Decoded result;
  result.bytes.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '=') {
      result.bytes += c;
      continue;
    }
    // Soft line break: '=' then optional transport padding then a line end.
    std::size_t j = i + 1;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) {
      ++j;
    }
    if (j < text.size() && (text[j] == '\r' || text[j] == '\n')) {
      if (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') {
        ++j;
      }
      i = j;
      continue;
    }
    if (j == text.size()) {
      i = j;
      continue;
    }
    if (i + 2 < text.size() && hexValue(text[i + 1]) >= 0 && hexValue(text[i + 2]) >= 0) {
      result.bytes += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      result.clean = false;
      result.bytes += c;
    }
  }
  return result;
}

std::string decodeEncodedWords(std::string_view value) {
  if (value.find("=?") == std::string_view::npos) {
    return rawText(value);
  }
  std::string out;
  std::size_t at = 0;
  std::size_t lastWordEnd = std::string_view::npos;
  while (at < value.size()) {
    std::size_t start = value.find("=?", at);
    if (start == std::string_view::npos) {
      out += rawText(value.substr(at));
      break;
    }
    // RFC 2047 caps an encoded word at 75 characters; looking much further than that for its
    // end would make a header full of stray "=?" quadratic.
    std::string_view window = value.substr(0, std::min(value.size(), start + kMaxEncodedWord));
    std::size_t q1 = window.find('?', start + 2);
    std::size_t q2 = q1 == std::string_view::npos ? q1 : window.find('?', q1 + 1);
    std::size_t end = q2 == std::string_view::npos ? q2 : window.find("?=", q2 + 1);
    if (end == std::string_view::npos || q2 != q1 + 2) {
      out += rawText(value.substr(at, start + 2 - at));
      at = start + 2;
      continue;
    }
    std::string_view between = value.substr(at, start - at);
    bool onlySpace = trim(between).empty();
    std::string decoded;
    if (!decodeWord(value.substr(start + 2, q1 - start - 2), value[q1 + 1],
                    value.substr(q2 + 1, end - q2 - 1), decoded)) {
      out += rawText(value.substr(at, start + 2 - at));
      at = start + 2;
      continue;
    }
    if (!(onlySpace && lastWordEnd == at)) {
      out += rawText(between);
    }
    out += decoded;
    at = end + 2;
    lastWordEnd = at;
  }
  return out;
}

ParameterizedValue parseParameterized(std::string_view header) {
  ParameterizedValue result;
  std::size_t semicolon = header.find(';');
  result.value = lowerAscii(trim(header.substr(0, semicolon)));
  if (semicolon == std::string_view::npos) {
    return result;
  }
  // RFC 2231: name*0, name*1* ... are pieces of one value; a trailing '*' marks a piece that is
  // percent-encoded, the first such piece starting with charset'language'.
  struct Pieces {
    std::map<int, std::pair<std::string, bool>> parts; ///< index -> text, extended
  };
  std::map<std::string, Pieces> extended;
  for (RawParameter& parameter : splitParameters(header.substr(semicolon + 1))) {
    std::string name = parameter.name;
    bool isExtended = !name.empty() && name.back() == '*';
    if (isExtended) {
      name.pop_back();
    }
    int index = -1;
    if (std::size_t star = name.find('*'); star != std::string::npos) {
      std::string digits = name.substr(star + 1);
      if (!digits.empty() && digits.size() < 4 &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        index = std::stoi(digits);
        name = name.substr(0, star);
      }
    }
    if (index < 0 && !isExtended) {
      if (!result.parameters.contains(name)) {
        result.parameters[name] =
            parameter.quoted ? decodeEncodedWords(parameter.value) : rawText(parameter.value);
      }
      continue;
    }
    extended[name].parts[std::max(index, 0)] = {std::move(parameter.value), isExtended};
  }
  for (auto& [name, pieces] : extended) {
    std::string charset;
    std::string bytes;
    bool first = true;
    for (auto& [index, piece] : pieces.parts) {
      std::string_view text = piece.first;
      if (piece.second && first) {
        std::size_t q1 = text.find('\'');
        std::size_t q2 = q1 == std::string_view::npos ? q1 : text.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
          charset = std::string(text.substr(0, q1));
          text = text.substr(q2 + 1);
        }
      }
      bytes += piece.second ? percentDecode(text) : std::string(text);
      first = false;
    }
    // The RFC 2231 form wins over a plain one of the same name (mailers send both).
    result.parameters[name] =
        charset.empty() ? decodeEncodedWords(bytes) : convertToUtf8(bytes, charset).text;
  }
  return result;
}

} // namespace switchboard::email
