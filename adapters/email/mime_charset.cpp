#include "mime_charset.h"
#include "mail_text.h"

#include <array>
#include <cerrno>
#include <iconv.h>
#include <map>
#include <memory>

namespace switchboard::email {
namespace {

using text::appendCodePoint;
using text::lowerAscii;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Windows-1252 bytes 0x80-0x9F; 0 marks the five bytes the code page leaves undefined.
constexpr std::array<std::uint16_t, 32> kCp1252High{
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

std::string fromCp1252(std::string_view bytes, bool& clean) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out += c;
    } else if (b < 0xA0) {
      std::uint16_t cp = kCp1252High[b - 0x80];
      if (cp == 0) {
        clean = false;
        out += kReplacement;
      } else {
        appendCodePoint(out, cp);
      }
    } else {
      appendCodePoint(out, b);
    }
  }
  return out;
}

// Length of the valid UTF-8 sequence at `at`, or 0 when the bytes there are not one.
std::size_t sequenceAt(std::string_view s, std::size_t at) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = b(at);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  std::uint32_t min = 0;
  std::uint32_t cp = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min = 0x80, cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min = 0x800, cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min = 0x10000, cp = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > s.size()) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((b(at + i) & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (b(at + i) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return length;
}

// One converter per charset and thread: iconv_open loads a gconv module, too slow per part.
class Converter {
 public:
  explicit Converter(const std::string& charset) : handle_(iconv_open("UTF-8", charset.c_str())) {}
  ~Converter() {
    if (valid()) {
      iconv_close(handle_);
    }
  }
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;

  bool valid() const { return handle_ != reinterpret_cast<iconv_t>(-1); }

  std::string convert(std::string_view bytes, bool& clean) {
    iconv(handle_, nullptr, nullptr, nullptr, nullptr);
    std::string out;
    std::array<char, 4096> buffer{};
    // iconv's interface is not const-correct; it never writes through the input pointer.
    char* in = const_cast<char*>(bytes.data());
    std::size_t inLeft = bytes.size();
    while (inLeft > 0) {
      char* outPtr = buffer.data();
      std::size_t outLeft = buffer.size();
      std::size_t result = iconv(handle_, &in, &inLeft, &outPtr, &outLeft);
      out.append(buffer.data(), buffer.size() - outLeft);
      if (result != static_cast<std::size_t>(-1)) {
        continue;
      }
      if (errno == E2BIG) {
        continue;
      }
      // EILSEQ or EINVAL (a sequence cut off at the end): mark it and go on after one byte.
      clean = false;
      out += kReplacement;
      ++in;
      --inLeft;
      iconv(handle_, nullptr, nullptr, nullptr, nullptr);
    }
    char* outPtr = buffer.data();
    std::size_t outLeft = buffer.size();
    iconv(handle_, nullptr, nullptr, &outPtr, &outLeft);
    out.append(buffer.data(), buffer.size() - outLeft);
    return out;
  }

 private:
  iconv_t handle_;
};

Converter* converterFor(const std::string& charset) {
  thread_local std::map<std::string, std::unique_ptr<Converter>> converters;
  auto found = converters.find(charset);
  if (found == converters.end()) {
    // A mail may name any charset; only a bounded number of them is kept open per thread.
    if (converters.size() > 64) {
      converters.clear();
    }
    found = converters.emplace(charset, std::make_unique<Converter>(charset)).first;
  }
  return found->second->valid() ? found->second.get() : nullptr;
}

bool isPlainName(const std::string& name) {
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == ':';
    if (!ok) {
      return false;
    }
  }
  return !name.empty() && name.size() <= 40;
}

} // namespace

bool isUtf8(std::string_view bytes) {
  for (std::size_t at = 0; at < bytes.size();) {
    if (static_cast<unsigned char>(bytes[at]) < 0x80) {
      ++at;
      continue;
    }
    std::size_t length = sequenceAt(bytes, at);
    if (length == 0) {
      return false;
    }
    at += length;
  }
  return true;
}

std::string repairUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t at = 0; at < bytes.size();) {
    std::size_t length = sequenceAt(bytes, at);
    if (length == 0) {
      out += kReplacement;
      ++at;
    } else {
      out.append(bytes.substr(at, length));
      at += length;
    }
  }
  return out;
}

Utf8Text convertToUtf8(std::string_view bytes, std::string_view charset) {
  Utf8Text result;
  std::string name = lowerAscii(charset);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  if (name == "utf-8" || name == "utf8" || name.empty() || name == "us-ascii" || name == "ascii" ||
      name == "ansi_x3.4-1968") {
    if (isUtf8(bytes)) {
      result.text = std::string(bytes);
      return result;
    }
    if (name.starts_with("utf")) {
      result.clean = false;
      result.text = repairUtf8(bytes);
      return result;
    }
    // 8-bit bytes in a mail that claims ASCII (or names no charset) are Windows text.
    result.text = fromCp1252(bytes, result.clean);
    return result;
  }
  if (name == "iso-8859-1" || name == "iso8859-1" || name == "latin1" || name == "latin-1" ||
      name == "windows-1252" || name == "cp1252" || name == "x-cp1252" || name == "l1") {
    result.text = fromCp1252(bytes, result.clean);
    return result;
  }
  if (isPlainName(name)) {
    if (Converter* converter = converterFor(name)) {
      result.text = converter->convert(bytes, result.clean);
      return result;
    }
  }
  result.known = false;
  result.text = isUtf8(bytes) ? std::string(bytes) : fromCp1252(bytes, result.clean);
  return result;
}

} // namespace switchboard::email
