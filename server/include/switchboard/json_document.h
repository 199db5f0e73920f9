#pragma once

// Reads JSON (RFC 8259) into a compact, read-only tree: the REST API's request bodies are parsed
// with it. One parse makes one array of nodes; strings without escapes point into the input.
// The reading twin of json_writer.h (a tree of Poco::JSON objects cost more than the rest of a
// POST /v1/work-items handler).

#include "switchboard/result.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

class JsonWriter;
class JsonDocument;
struct JsonMember;
class JsonMembers;

/// One value of a parsed document. Values are views: they live as long as their JsonDocument
/// (and the text it was parsed from). An accessor used on a value of another type returns an
/// empty result (0, "", no elements) rather than throwing; check type() first.
class JsonValue {
 public:
  enum class Type : std::uint8_t { Null, Bool, Integer, Number, String, Array, Object };

  /// null.
  JsonValue() : number_(0) {}

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::Null; }
  bool isBool() const { return type_ == Type::Bool; }
  bool isString() const { return type_ == Type::String; }
  bool isArray() const { return type_ == Type::Array; }
  bool isObject() const { return type_ == Type::Object; }
  /// Integer or Number.
  bool isNumber() const { return type_ == Type::Integer || type_ == Type::Number; }

  bool boolean() const { return type_ == Type::Bool && flag_; }
  /// An Integer: a number written without fraction or exponent that fits in int64, exactly.
  std::int64_t integer() const { return type_ == Type::Integer ? integer_ : 0; }
  /// An Integer or Number as a double (an Integer beyond 2^53 is rounded).
  double number() const;
  /// True for a number written without fraction or exponent: every Integer, and a Number
  /// too large for int64 (which then holds the nearest double).
  bool integral() const { return type_ == Type::Integer || (type_ == Type::Number && flag_); }
  /// A String's text, unescaped, valid UTF-8 (it may hold U+0000).
  std::string_view string() const {
    return type_ == Type::String ? std::string_view(text_, size_) : std::string_view();
  }

  /// The number of elements of an Array or members of an Object; 0 otherwise.
  std::size_t size() const { return type_ == Type::Array || type_ == Type::Object ? size_ : 0; }
  /// An Array's elements.
  std::span<const JsonValue> elements() const {
    return type_ == Type::Array ? std::span<const JsonValue>(children_, size_)
                                : std::span<const JsonValue>();
  }
  /// An Object's members in document order (names are unique: the parser refuses duplicates).
  JsonMembers members() const;
  /// The value of the member named `name`, or nullptr (also when this is not an Object).
  const JsonValue* find(std::string_view name) const;
  /// The position of the member named `name` in members(), or npos.
  std::size_t indexOf(std::string_view name) const;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  /// Same type and value; numbers compare by value (the Integer 3 equals the Number 3.0),
  /// objects member by member in order.
  friend bool operator==(const JsonValue& a, const JsonValue& b);

 private:
  friend class JsonDocument;
  friend class JsonParser;

  Type type_ = Type::Null;
  /// Bool: true. Number: written as an integer. Array and Object: while parsing, the children
  /// are an index (index_), not yet a pointer.
  bool flag_ = false;
  std::uint32_t size_ = 0; ///< bytes of a String; elements of an Array; members of an Object
  union {
    double number_;
    std::int64_t integer_;
    const char* text_;
    const JsonValue* children_; ///< an Object's are name, value, name, value, ...
    std::size_t index_;
  };
};

/// One member of an object.
struct JsonMember {
  std::string_view name;
  const JsonValue& value;
};

/// The members of an object as a range of JsonMember.
class JsonMembers {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = JsonMember;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = JsonMember;

    Iterator() = default;
    explicit Iterator(const JsonValue* at) : at_(at) {}
    JsonMember operator*() const { return {at_[0].string(), at_[1]}; }
    Iterator& operator++() {
      at_ += 2;
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      at_ += 2;
      return before;
    }
    bool operator==(const Iterator&) const = default;

   private:
    const JsonValue* at_ = nullptr;
  };

  JsonMembers(const JsonValue* first, std::size_t count) : first_(first), count_(count) {}
  Iterator begin() const { return Iterator(first_); }
  Iterator end() const { return Iterator(first_ + 2 * count_); }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  /// The i-th member (i < size()).
  JsonMember operator[](std::size_t i) const { return {first_[2 * i].string(), first_[2 * i + 1]}; }

 private:
  const JsonValue* first_;
  std::size_t count_;
};

inline JsonMembers JsonValue::members() const {
  return type_ == Type::Object ? JsonMembers(children_, size_) : JsonMembers(nullptr, 0);
}

/// Why a text is not a JSON document, and where.
struct JsonError {
  std::size_t offset = 0; ///< bytes from the start of the text
  std::size_t line = 1;   ///< 1-based
  std::size_t column = 1; ///< 1-based, in characters (UTF-8 sequences count once)
  std::string message;    ///< e.g. "expected ',' or '}' after a member, found 'x'"

  /// "line L, column C: message".
  std::string toString() const;
};

/// The deepest nesting of arrays and objects the parser accepts by default.
inline constexpr std::size_t kJsonMaxDepth = 64;

/// A parsed JSON text: owns the nodes and the unescaped strings, and refers to the text it was
/// parsed from for the strings that needed no unescaping; the caller keeps that text alive and
/// unchanged as long as the document. Move-only.
class JsonDocument {
 public:
  /// Parses one JSON text (any value at the top, surrounded by optional whitespace). Strict
  /// RFC 8259: no comments, trailing commas, single quotes, leading zeros, NaN or Infinity, no
  /// control characters or invalid UTF-8 (overlong forms, UTF-16 surrogates, beyond U+10FFFF)
  /// in strings, no lone or mismatched \u surrogates, nothing but whitespace after the value.
  /// Further refused: a member name twice in one object (two readers of the same text could
  /// otherwise disagree about which value counts), nesting deeper than `maxDepth`, a number
  /// beyond the range of a double, a text of 4 GiB or more. A number too small for a double
  /// becomes 0. Never recurses: hostile input costs memory in proportion to its size only.
  static Result<JsonDocument, JsonError> parse(std::string_view text,
                                               std::size_t maxDepth = kJsonMaxDepth);

  /// A document that is an empty object.
  static JsonDocument emptyObject();

  JsonDocument(JsonDocument&&) noexcept = default;
  JsonDocument& operator=(JsonDocument&&) noexcept = default;
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;
  ~JsonDocument() = default;

  /// The top-level value.
  const JsonValue& root() const { return nodes_.back(); }

 private:
  friend class JsonParser;
  JsonDocument() = default;

  /// Every value, the root last; the children of a container are contiguous. On the heap, so
  /// that a move keeps references valid.
  std::vector<JsonValue> nodes_;
  std::unique_ptr<char[]> strings_; ///< unescaped strings, when the text has escapes
};

/// Writes `value` (and everything in it) with `json`.
void writeJson(JsonWriter& json, const JsonValue& value);

} // namespace switchboard
