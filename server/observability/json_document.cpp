#include "switchboard/json_document.h"

#include "switchboard/json_writer.h"
#include "switchboard/log.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace switchboard {

namespace {

/// Objects up to this many members are checked for duplicate names pair by pair; larger ones
/// by sorting, so that a hostile body of many members stays O(n log n).
constexpr std::size_t kPairwiseDuplicateCheck = 16;
/// A thread's scratch stacks are given back when a document made them longer than this, so
/// that one huge body does not stay with every listener thread.
constexpr std::size_t kScratchKeep = 4096;
/// Nodes reserved up front: about one per eight bytes of a typical body, up to this many.
constexpr std::size_t kReserveNodes = 1024;

/// Bytes that a string holds as they are: printable ASCII but the quote and the backslash.
constexpr auto kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) {
    plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  }
  return plain;
}();

bool plain(char c) {
  return kPlain[static_cast<unsigned char>(c)];
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/// The length of the well-formed UTF-8 sequence of a non-ASCII character at `p`, or 0 (overlong
/// forms, UTF-16 surrogates and code points beyond U+10FFFF are not well-formed: RFC 3629).
std::size_t utf8Sequence(const char* p, const char* end) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(p[i]); };
  auto available = static_cast<std::size_t>(end - p);
  unsigned char lead = byte(0);
  auto continuation = [&](std::size_t i, unsigned char low = 0x80, unsigned char high = 0xBF) {
    return i < available && byte(i) >= low && byte(i) <= high;
  };
  if (lead >= 0xC2 && lead <= 0xDF) {
    return continuation(1) ? 2 : 0;
  }
  if (lead >= 0xE0 && lead <= 0xEF) {
    // E0 needs A0.. (no overlongs); ED needs ..9F (no surrogates).
    unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    // F0 needs 90.. (no overlongs); F4 needs ..8F (nothing beyond U+10FFFF).
    unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

char* appendUtf8(std::uint32_t code, char* out) {
  if (code < 0x80) {
    *out++ = static_cast<char>(code);
  } else if (code < 0x800) {
    *out++ = static_cast<char>(0xC0 | (code >> 6));
    *out++ = static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (code >> 12));
    *out++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (code & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (code >> 18));
    *out++ = static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (code & 0x3F));
  }
  return out;
}

std::string hex(std::uint32_t value, int digits) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[value & 0xF];
    value >>= 4;
  }
  return out;
}

} // namespace

/// Parses one document; see JsonDocument::parse. Failures are thrown as Failure and caught by
/// parse(): they are rare and end the parse.
class JsonParser {
 public:
  struct Failure {
    const char* at;
    std::string message;
  };
  /// An open array or object while parsing.
  struct Frame {
    std::size_t start = 0;     ///< its first child on the value stack
    std::size_t nameStart = 0; ///< its first member's entry in Scratch::nameOffsets
    bool object = false;
  };

  /// Stacks reused from one document to the next on the same thread, so that a parse allocates
  /// only what the document keeps.
  struct Scratch {
    std::vector<JsonValue> values;        ///< finished values whose container is still open
    std::vector<std::size_t> nameOffsets; ///< where each member name of the open objects starts
    std::vector<Frame> frames;            ///< the open containers, innermost last
    std::vector<std::uint32_t> order;     ///< for the duplicate check of large objects
  };

  JsonParser(std::string_view text, std::size_t maxDepth, Scratch& scratch)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), maxDepth_(maxDepth),
        scratch_(scratch) {}

  JsonDocument run();
  JsonError error(const Failure& failure) const;

 private:
  [[noreturn]] void fail(const char* at, std::string message) const {
    throw Failure{at, std::move(message)};
  }
  std::string found(const char* at) const;
  void skipWhitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }
  bool startValue();
  void open(bool object);
  void close();
  void name();
  JsonValue string();
  const char* unescape(const char* start);
  JsonValue number();
  void literal(std::string_view word, JsonValue value);
  void refuseDuplicates(const Frame& frame, std::size_t members);

  const char* begin_;
  const char* p_;
  const char* end_;
  std::size_t maxDepth_;
  Scratch& scratch_;
  JsonDocument document_;
  char* out_ = nullptr; ///< the free end of the document's string buffer
};

JsonDocument JsonParser::run() {
  scratch_.values.clear();
  scratch_.nameOffsets.clear();
  scratch_.frames.clear();
  // One allocation for most documents.
  document_.nodes_.reserve(
      std::min(static_cast<std::size_t>(end_ - begin_) / 8 + 2, kReserveNodes));
  skipWhitespace();
  for (;;) {
    if (!startValue()) {
      continue;
    }
    // A value is complete: what follows it depends on the container it is in.
    for (;;) {
      if (scratch_.frames.empty()) {
        skipWhitespace();
        if (p_ != end_) {
          fail(p_, "expected the end of the text after the value, found " + found(p_));
        }
        auto& nodes = document_.nodes_;
        nodes.push_back(scratch_.values.back());
        for (auto& node : nodes) {
          if (node.flag_ &&
              (node.type_ == JsonValue::Type::Array || node.type_ == JsonValue::Type::Object)) {
            node.children_ = nodes.data() + node.index_;
            node.flag_ = false;
          }
        }
        return std::move(document_);
      }
      skipWhitespace();
      bool object = scratch_.frames.back().object;
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        skipWhitespace();
        if (object) {
          name();
        }
        break;
      }
      if (p_ != end_ && *p_ == (object ? '}' : ']')) {
        ++p_;
        close();
        continue;
      }
      fail(p_, object ? "expected ',' or '}' after a member, found " + found(p_)
                      : "expected ',' or ']' after an element, found " + found(p_));
    }
  }
}

/// At the first byte of a value: pushes a scalar or an empty container and returns true, or
/// opens a container and stops at its first value (returns false).
bool JsonParser::startValue() {
  if (p_ == end_) {
    fail(p_, "expected a value, found " + found(p_));
  }
  switch (*p_) {
  case '{':
    open(true);
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      close();
      return true;
    }
    name();
    return false;
  case '[':
    open(false);
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      close();
      return true;
    }
    return false;
  case '"':
    scratch_.values.push_back(string());
    return true;
  case 't': {
    JsonValue value;
    value.type_ = JsonValue::Type::Bool;
    value.flag_ = true;
    literal("true", value);
    return true;
  }
  case 'f': {
    JsonValue value;
    value.type_ = JsonValue::Type::Bool;
    literal("false", value);
    return true;
  }
  case 'n':
    literal("null", JsonValue());
    return true;
  default:
    if (*p_ == '-' || isDigit(*p_)) {
      scratch_.values.push_back(number());
      return true;
    }
    fail(p_, "expected a value, found " + found(p_));
  }
}

void JsonParser::open(bool object) {
  if (scratch_.frames.size() >= maxDepth_) {
    fail(p_, "arrays and objects nested deeper than " + std::to_string(maxDepth_) + " levels");
  }
  scratch_.frames.push_back({scratch_.values.size(), scratch_.nameOffsets.size(), object});
  ++p_;
  skipWhitespace();
}

void JsonParser::close() {
  Frame frame = scratch_.frames.back();
  scratch_.frames.pop_back();
  auto& values = scratch_.values;
  std::size_t count = values.size() - frame.start;
  if (frame.object) {
    refuseDuplicates(frame, count / 2);
    scratch_.nameOffsets.resize(frame.nameStart);
  }
  auto& nodes = document_.nodes_;
  JsonValue container;
  container.type_ = frame.object ? JsonValue::Type::Object : JsonValue::Type::Array;
  container.size_ = static_cast<std::uint32_t>(frame.object ? count / 2 : count);
  container.flag_ = true; // index_ until run() has every node in place
  container.index_ = nodes.size();
  auto first = values.begin() + static_cast<std::ptrdiff_t>(frame.start);
  nodes.insert(nodes.end(), first, values.end());
  values.erase(first, values.end());
  values.push_back(container);
}

/// A member name, its colon and the whitespace up to the value.
void JsonParser::name() {
  if (p_ == end_ || *p_ != '"') {
    fail(p_, "expected a member name in double quotes, found " + found(p_));
  }
  scratch_.nameOffsets.push_back(static_cast<std::size_t>(p_ - begin_));
  scratch_.values.push_back(string());
  skipWhitespace();
  if (p_ == end_ || *p_ != ':') {
    fail(p_, "expected ':' after the member name, found " + found(p_));
  }
  ++p_;
  skipWhitespace();
}

void JsonParser::refuseDuplicates(const Frame& frame, std::size_t members) {
  const JsonValue* names = scratch_.values.data() + frame.start;
  auto nameOf = [&](std::size_t i) { return names[2 * i].string(); };
  // The duplicate reported is the first member whose name appeared before it.
  std::size_t duplicate = members;
  if (members <= kPairwiseDuplicateCheck) {
    for (std::size_t i = 1; i < members && duplicate == members; ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (nameOf(i) == nameOf(j)) {
          duplicate = i;
          break;
        }
      }
    }
  } else {
    auto& order = scratch_.order;
    order.resize(members);
    for (std::size_t i = 0; i < members; ++i) {
      order[i] = static_cast<std::uint32_t>(i);
    }
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      auto left = nameOf(a);
      auto right = nameOf(b);
      return left != right ? left < right : a < b;
    });
    for (std::size_t i = 1; i < members; ++i) {
      if (nameOf(order[i]) == nameOf(order[i - 1])) {
        duplicate = std::min<std::size_t>(duplicate, order[i]);
      }
    }
    if (order.capacity() > kScratchKeep) {
      order = {};
    }
  }
  if (duplicate == members) {
    return;
  }
  std::string shown;
  auto name = nameOf(duplicate);
  appendJsonEscaped(name.substr(0, 64), shown);
  fail(begin_ + scratch_.nameOffsets[frame.nameStart + duplicate],
       "the member name \"" + shown + (name.size() > 64 ? "..." : "") +
           "\" appears twice in one object");
}

JsonValue JsonParser::string() {
  const char* start = ++p_;
  for (;;) {
    while (p_ != end_ && plain(*p_)) {
      ++p_;
    }
    if (p_ == end_) {
      fail(start - 1, "a string that never ends");
    }
    auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      break;
    }
    if (c == '\\') {
      // The first escape: from here on the string is copied, unescaped, into the document's
      // buffer. Unescaping never lengthens a string, so a buffer as long as the text holds
      // every string of the document and never moves.
      if (!document_.strings_) {
        document_.strings_ =
            std::make_unique_for_overwrite<char[]>(static_cast<std::size_t>(end_ - begin_));
        out_ = document_.strings_.get();
      }
      char* copy = out_;
      std::memcpy(copy, start, static_cast<std::size_t>(p_ - start));
      out_ = copy + (p_ - start);
      const char* last = unescape(start);
      JsonValue value;
      value.type_ = JsonValue::Type::String;
      value.text_ = copy;
      value.size_ = static_cast<std::uint32_t>(last - copy);
      return value;
    }
    if (c < 0x20) {
      fail(p_, "unescaped control character U+" + hex(c, 4) + " in a string");
    }
    // Not plain: the byte leads a UTF-8 sequence.
    std::size_t length = utf8Sequence(p_, end_);
    if (length == 0) {
      fail(p_, "invalid UTF-8 in a string (byte 0x" + hex(c, 2) + ")");
    }
    p_ += length;
  }
  JsonValue value;
  value.type_ = JsonValue::Type::String;
  value.text_ = start;
  value.size_ = static_cast<std::uint32_t>(p_ - start);
  ++p_;
  return value;
}

/// Continues string() from its first backslash, writing at out_; returns the end of the copy.
const char* JsonParser::unescape(const char* start) {
  char* o = out_;
  for (;;) {
    const char* run = p_;
    while (p_ != end_ && plain(*p_)) {
      ++p_;
    }
    std::memcpy(o, run, static_cast<std::size_t>(p_ - run));
    o += p_ - run;
    if (p_ == end_) {
      fail(start - 1, "a string that never ends");
    }
    auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      out_ = o;
      return o;
    }
    if (c == '\\') {
      if (end_ - p_ < 2) {
        fail(start - 1, "a string that never ends");
      }
      char escaped = p_[1];
      switch (escaped) {
      case '"':
      case '\\':
      case '/':
        *o++ = escaped;
        break;
      case 'b':
        *o++ = '\b';
        break;
      case 'f':
        *o++ = '\f';
        break;
      case 'n':
        *o++ = '\n';
        break;
      case 'r':
        *o++ = '\r';
        break;
      case 't':
        *o++ = '\t';
        break;
      case 'u': {
        auto hex4 = [&](const char* at) -> std::int32_t {
          if (end_ - at < 6) {
            return -1;
          }
          std::int32_t code = 0;
          for (int i = 2; i < 6; ++i) {
            int digit = hexValue(at[i]);
            if (digit < 0) {
              return -1;
            }
            code = code * 16 + digit;
          }
          return code;
        };
        std::int32_t code = hex4(p_);
        if (code < 0) {
          fail(p_, "a \\u escape needs four hex digits");
        }
        if (code >= 0xDC00 && code <= 0xDFFF) {
          fail(p_, "the low surrogate \\u" + hex(static_cast<std::uint32_t>(code), 4) +
                       " without a high surrogate before it");
        }
        if (code >= 0xD800 && code <= 0xDBFF) {
          bool pair = end_ - p_ >= 12 && p_[6] == '\\' && p_[7] == 'u';
          std::int32_t low = pair ? hex4(p_ + 6) : -1;
          if (low < 0xDC00 || low > 0xDFFF) {
            fail(p_, "the high surrogate \\u" + hex(static_cast<std::uint32_t>(code), 4) +
                         " must be followed by a low surrogate \\uDC00-\\uDFFF");
          }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          p_ += 6;
        }
        o = appendUtf8(static_cast<std::uint32_t>(code), o);
        p_ += 4;
        break;
      }
      default:
        fail(p_, "invalid escape in a string: a backslash followed by " + found(p_ + 1));
      }
      p_ += 2;
      continue;
    }
    if (c < 0x20) {
      fail(p_, "unescaped control character U+" + hex(c, 4) + " in a string");
    }
    std::size_t length = utf8Sequence(p_, end_);
    if (length == 0) {
      fail(p_, "invalid UTF-8 in a string (byte 0x" + hex(c, 2) + ")");
    }
    std::memcpy(o, p_, length);
    o += length;
    p_ += length;
  }
}

JsonValue JsonParser::number() {
  const char* start = p_;
  bool negative = *p_ == '-';
  if (negative) {
    ++p_;
  }
  if (p_ == end_ || !isDigit(*p_)) {
    fail(p_, "expected a digit after '-', found " + found(p_));
  }
  const char* integerDigits = p_;
  if (*p_ == '0') {
    ++p_;
    if (p_ != end_ && isDigit(*p_)) {
      fail(start, "a number with a leading zero");
    }
  } else {
    while (p_ != end_ && isDigit(*p_)) {
      ++p_;
    }
  }
  const char* integerEnd = p_;
  const char* fractionDigits = p_;
  const char* fractionEnd = p_;
  bool integral = true;
  if (p_ != end_ && *p_ == '.') {
    integral = false;
    fractionDigits = ++p_;
    if (p_ == end_ || !isDigit(*p_)) {
      fail(p_, "expected a digit after the decimal point, found " + found(p_));
    }
    while (p_ != end_ && isDigit(*p_)) {
      ++p_;
    }
    fractionEnd = p_;
  }
  long long exponent = 0;
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    integral = false;
    ++p_;
    bool negativeExponent = false;
    if (p_ != end_ && (*p_ == '+' || *p_ == '-')) {
      negativeExponent = *p_ == '-';
      ++p_;
    }
    if (p_ == end_ || !isDigit(*p_)) {
      fail(p_, "expected a digit in the exponent, found " + found(p_));
    }
    while (p_ != end_ && isDigit(*p_)) {
      exponent = std::min(exponent * 10 + (*p_ - '0'), 1'000'000'000LL);
      ++p_;
    }
    exponent = negativeExponent ? -exponent : exponent;
  }
  JsonValue value;
  if (integral) {
    std::int64_t exact = 0;
    if (std::from_chars(start, p_, exact).ec == std::errc()) {
      value.type_ = JsonValue::Type::Integer;
      value.integer_ = exact;
      return value;
    }
  }
  value.type_ = JsonValue::Type::Number;
  value.flag_ = integral;
  double approximate = 0;
  if (std::from_chars(start, p_, approximate).ec == std::errc::result_out_of_range) {
    // Too large or too small for a double: the decimal exponent of the first significant
    // digit tells which.
    long long lead = 0;
    const char* digit = integerDigits;
    while (digit != integerEnd && *digit == '0') {
      ++digit;
    }
    if (digit != integerEnd) {
      lead = integerEnd - digit - 1;
    } else {
      digit = fractionDigits;
      while (digit != fractionEnd && *digit == '0') {
        ++digit;
      }
      lead = -(digit - fractionDigits) - 1;
    }
    if (lead + exponent > 0) {
      fail(start, "a number beyond the range of a double");
    }
    approximate = negative ? -0.0 : 0.0;
  }
  value.number_ = approximate;
  return value;
}

void JsonParser::literal(std::string_view word, JsonValue value) {
  if (static_cast<std::size_t>(end_ - p_) < word.size() ||
      std::memcmp(p_, word.data(), word.size()) != 0) {
    fail(p_, "expected a value (true, false, null, a number, a string, an array or an "
             "object), found " +
                 found(p_));
  }
  p_ += word.size();
  scratch_.values.push_back(value);
}

std::string JsonParser::found(const char* at) const {
  if (at == end_) {
    return "the end of the text";
  }
  auto c = static_cast<unsigned char>(*at);
  if (c == '\'') {
    return "\"'\"";
  }
  if (c >= 0x20 && c < 0x7F) {
    return std::string("'") + static_cast<char>(c) + "'";
  }
  if (c >= 0x80) {
    if (std::size_t length = utf8Sequence(at, end_)) {
      return "'" + std::string(at, length) + "'";
    }
  }
  return "byte 0x" + hex(c, 2);
}

JsonError JsonParser::error(const Failure& failure) const {
  JsonError error;
  error.offset = static_cast<std::size_t>(failure.at - begin_);
  for (const char* p = begin_; p != failure.at; ++p) {
    if (*p == '\n') {
      ++error.line;
      error.column = 1;
    } else if ((static_cast<unsigned char>(*p) & 0xC0) != 0x80) {
      ++error.column;
    }
  }
  error.message = failure.message;
  return error;
}

// ------------------------------------------------------------------------------------ values

double JsonValue::number() const {
  if (type_ == Type::Integer) {
    return static_cast<double>(integer_);
  }
  return type_ == Type::Number ? number_ : 0.0;
}

std::size_t JsonValue::indexOf(std::string_view name) const {
  if (type_ != Type::Object) {
    return npos;
  }
  for (std::size_t i = 0; i < size_; ++i) {
    const JsonValue& key = children_[2 * i];
    if (key.size_ == name.size() && std::memcmp(key.text_, name.data(), name.size()) == 0) {
      return i;
    }
  }
  return npos;
}

const JsonValue* JsonValue::find(std::string_view name) const {
  std::size_t index = indexOf(name);
  return index == npos ? nullptr : &children_[2 * index + 1];
}

namespace {

bool sameNumber(std::int64_t integer, double number) {
  // Within int64's range and without fraction; 2^63 itself is just outside.
  constexpr double kLimit = 9223372036854775808.0;
  return number >= -kLimit && number < kLimit && std::trunc(number) == number &&
         static_cast<std::int64_t>(number) == integer;
}

} // namespace

bool operator==(const JsonValue& a, const JsonValue& b) {
  using Type = JsonValue::Type;
  if (a.isNumber() && b.isNumber()) {
    if (a.type_ == Type::Integer && b.type_ == Type::Integer) {
      return a.integer_ == b.integer_;
    }
    if (a.type_ == Type::Number && b.type_ == Type::Number) {
      return a.number_ == b.number_;
    }
    return a.type_ == Type::Integer ? sameNumber(a.integer_, b.number_)
                                    : sameNumber(b.integer_, a.number_);
  }
  if (a.type_ != b.type_) {
    return false;
  }
  switch (a.type_) {
  case Type::Null:
    return true;
  case Type::Bool:
    return a.flag_ == b.flag_;
  case Type::String:
    return a.string() == b.string();
  case Type::Array:
  case Type::Object: {
    std::size_t children = a.type_ == Type::Object ? 2 * a.size_ : a.size_;
    if (a.size_ != b.size_) {
      return false;
    }
    for (std::size_t i = 0; i < children; ++i) {
      if (!(a.children_[i] == b.children_[i])) {
        return false;
      }
    }
    return true;
  }
  default:
    return false;
  }
}

// ---------------------------------------------------------------------------------- document

std::string JsonError::toString() const {
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message;
}

Result<JsonDocument, JsonError> JsonDocument::parse(std::string_view text, std::size_t maxDepth) {
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) {
    return JsonError{0, 1, 1, "a text of 4 GiB or more"};
  }
  thread_local JsonParser::Scratch scratch;
  JsonParser parser(text, maxDepth, scratch);
  Result<JsonDocument, JsonError> result = [&]() -> Result<JsonDocument, JsonError> {
    try {
      return parser.run();
    } catch (const JsonParser::Failure& failure) {
      return parser.error(failure);
    }
  }();
  auto release = [](auto& stack) {
    if (stack.capacity() > kScratchKeep) {
      stack = {};
    }
  };
  release(scratch.values);
  release(scratch.nameOffsets);
  release(scratch.frames);
  return result;
}

JsonDocument JsonDocument::emptyObject() {
  JsonDocument document;
  JsonValue object;
  object.type_ = JsonValue::Type::Object;
  document.nodes_.push_back(object);
  return document;
}

void writeJson(JsonWriter& json, const JsonValue& value) {
  switch (value.type()) {
  case JsonValue::Type::Null:
    json.null();
    break;
  case JsonValue::Type::Bool:
    json.value(value.boolean());
    break;
  case JsonValue::Type::Integer:
    json.value(value.integer());
    break;
  case JsonValue::Type::Number:
    json.value(value.number());
    break;
  case JsonValue::Type::String:
    json.value(value.string());
    break;
  case JsonValue::Type::Array:
    json.beginArray();
    for (const JsonValue& element : value.elements()) {
      writeJson(json, element);
    }
    json.endArray();
    break;
  case JsonValue::Type::Object:
    json.beginObject();
    for (auto member : value.members()) {
      json.key(member.name);
      writeJson(json, member.value);
    }
    json.endObject();
    break;
  }
}

} // namespace switchboard
