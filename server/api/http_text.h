#pragma once

// Small text helpers of HTTP (RFC 9110) shared by the API module's parsers.

#include <string_view>

namespace switchboard::api {

/// `text` without the optional white space (spaces and tabs) around it.
inline std::string_view trimWhiteSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

/// Whether `name` is `lower` (given in lower case) in any case: header names, authentication
/// schemes and HTTP's other case-insensitive tokens.
inline bool namedInAnyCase(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != lower[i]) {
      return false;
    }
  }
  return true;
}

} // namespace switchboard::api
