#pragma once

// Reads and writes the Switchboard message (schemas/message/v1/message.xsd).
//
// decode() is the boundary every message crosses on its way in: it refuses hostile documents
// before and while parsing (size, DOCTYPE, external entities, depth), validates against the
// schema compiled into the program, and converts to the value types of message.h. encode()
// writes those values back as a UTF-8 document.

#include "switchboard/message.h"
#include "switchboard/result.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace switchboard {

/// Limits that decode() enforces before and while parsing.
struct CodecLimits {
  std::size_t maxBytes = 4 * 1024 * 1024; ///< larger documents are refused without parsing
  std::size_t maxDepth = 32;              ///< deeper nesting of elements is refused
};

/// Why a document was refused, and where.
struct DecodeError {
  enum class Kind {
    TooLarge,  ///< over CodecLimits::maxBytes
    Forbidden, ///< a DOCTYPE, or a reference to an external resource
    TooDeep,   ///< nesting over CodecLimits::maxDepth
    Malformed, ///< not well-formed XML
    Invalid,   ///< well-formed, but not a message of this schema
  };
  Kind kind = Kind::Invalid;
  std::size_t line = 0;   ///< 1-based; 0 when the refusal is not tied to a place
  std::size_t column = 0; ///< 1-based; 0 when the refusal is not tied to a place
  std::string reason;

  /// "LINE:COLUMN: reason", or "reason" when there is no place.
  std::string toString() const;
};

/// "tooLarge", "forbidden", "tooDeep", "malformed" or "invalid": a stable name for metrics.
std::string_view toString(DecodeError::Kind kind);

class MessageCodec {
 public:
  /// Compiles the embedded schema once; every decode() reuses it. Throws std::runtime_error when
  /// the schema does not load, which is a defect of the build, not of any input.
  explicit MessageCodec(CodecLimits limits = {});
  ~MessageCodec();
  MessageCodec(const MessageCodec&) = delete;
  MessageCodec& operator=(const MessageCodec&) = delete;

  /// Parses, validates and converts one document. Never throws for bad input: every refusal is a
  /// DecodeError. Safe to call from many threads at once.
  Result<Message, DecodeError> decode(std::string_view document) const;

  /// Writes `message` as a UTF-8 document. Characters that XML cannot carry (C0 controls other
  /// than tab and line breaks, invalid UTF-8) are written as U+FFFD. It does not validate: a
  /// message whose required fields are empty encodes to a document that decode() refuses. Safe
  /// to call from many threads at once.
  std::string encode(const Message& message) const;

  const CodecLimits& limits() const { return limits_; }

  /// The schema text that decode() validates against.
  static std::string_view schema();

 private:
  struct Impl;
  CodecLimits limits_;
  std::unique_ptr<Impl> impl_;
};

} // namespace switchboard
