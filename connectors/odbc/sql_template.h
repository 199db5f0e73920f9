#pragma once

// SQL with named placeholders, as integrators write it in the configuration:
//   SELECT ... FROM contacts WHERE lower(email) = lower(:address)
// turned into ODBC's positional parameter markers ("?") with the names in order, so that values
// only ever reach the database as bound parameters. Text inside '...' and "..." literals and
// comments (-- and /* */) is left alone, as is "::" (PostgreSQL casts).

#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::odbc {

class SqlTemplate {
 public:
  SqlTemplate() = default;
  /// Parses `text`. Throws std::invalid_argument naming the offending placeholder when one is
  /// not in `allowed` ("unknown placeholder ':adress' at character 42; allowed: ...") or when the
  /// text has a '?' of its own (parameters are named).
  SqlTemplate(std::string text, const std::set<std::string>& allowed);

  const std::string& text() const { return text_; }
  /// The SQL with "?" for each placeholder.
  const std::string& positional() const { return positional_; }
  /// The placeholder of each "?", in order (a name used twice appears twice).
  const std::vector<std::string>& names() const { return names_; }
  bool empty() const { return text_.empty(); }

 private:
  std::string text_;
  std::string positional_;
  std::vector<std::string> names_;
};

} // namespace switchboard::odbc
