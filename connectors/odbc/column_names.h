#pragma once

// How the ODBC connector reads the names of result columns.

#include <cctype>
#include <string>

namespace switchboard::odbc {

/// A column name compared without case and without '_', so that customer_ref, customerRef and
/// CUSTOMERREF all name the customer reference, whatever the database does to unquoted names.
inline std::string canonical(const std::string& column) {
  std::string out;
  for (char c : column) {
    if (c != '_') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

} // namespace switchboard::odbc
