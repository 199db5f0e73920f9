#pragma once

// Reading a configuration file into a tree of ConfigElement: well-formed, without a DOCTYPE,
// valid against the configuration schema, every element and attribute with its position.

#include "switchboard/config.h"

#include <cstddef>
#include <filesystem>
#include <string_view>
#include <vector>

namespace switchboard {

/// The text of a configuration file, and the way between Xerces' line and column (counted in
/// UTF-16 units, lines ended by LF, CR or CR LF) and byte offsets.
class SourceText {
 public:
  explicit SourceText(std::string_view text);

  std::string_view text() const { return text_; }
  /// The byte offset of `position`, clamped to its line.
  std::size_t offset(SourcePosition position) const;
  SourcePosition position(std::size_t offset) const;

 private:
  std::string_view text_;
  std::vector<std::size_t> lineStarts_;
};

/// The largest configuration file read.
inline constexpr std::size_t kMaxConfigBytes = 16 * 1024 * 1024;

/// Parses `document`, the content of `file`, validates it against the configuration schema and
/// returns its root element. Throws ConfigError naming the element or attribute at fault.
ConfigElement parseConfigDocument(std::string_view document, const std::filesystem::path& file);

/// Where the byte `index` of `element.text` is written in `source`, following entity and
/// character references; the text's own position when it cannot be traced.
SourcePosition positionInText(const SourceText& source, const ConfigElement& element,
                              std::size_t index);

} // namespace switchboard
