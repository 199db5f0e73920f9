#include "sql_template.h"

#include <cctype>

namespace switchboard::odbc {
namespace {

bool nameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool nameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    out += (out.empty() ? ":" : ", :") + name;
  }
  return out;
}

} // namespace

SqlTemplate::SqlTemplate(std::string text, const std::set<std::string>& allowed)
    : text_(std::move(text)) {
  const std::string& s = text_;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      // A literal or quoted name runs to its closing quote; a doubled quote is part of it.
      std::size_t end = i + 1;
      while (end < s.size()) {
        if (s[end] == c) {
          if (end + 1 < s.size() && s[end + 1] == c) {
            end += 2;
            continue;
          }
          break;
        }
        ++end;
      }
      std::size_t stop = end < s.size() ? end + 1 : end;
      positional_.append(s, i, stop - i);
      i = stop;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      std::size_t end = s.find('\n', i);
      end = end == std::string::npos ? s.size() : end;
      positional_.append(s, i, end - i);
      i = end;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      std::size_t end = s.find("*/", i + 2);
      end = end == std::string::npos ? s.size() : end + 2;
      positional_.append(s, i, end - i);
      i = end;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == ':') {
      positional_ += "::";
      i += 2;
    } else if (c == ':' && i + 1 < s.size() && nameStart(s[i + 1])) {
      std::size_t end = i + 1;
      while (end < s.size() && nameChar(s[end])) {
        ++end;
      }
      std::string name = s.substr(i + 1, end - i - 1);
      if (!allowed.contains(name)) {
        throw std::invalid_argument("unknown placeholder ':" + name + "' at character " +
                                    std::to_string(i + 1) + "; this statement may use " +
                                    (allowed.empty() ? "none" : joined(allowed)));
      }
      names_.push_back(std::move(name));
      positional_ += '?';
      i = end;
    } else if (c == '?') {
      throw std::invalid_argument("'?' at character " + std::to_string(i + 1) +
                                  ": write a named placeholder (:name) instead");
    } else {
      positional_ += c;
      ++i;
    }
  }
}

} // namespace switchboard::odbc
