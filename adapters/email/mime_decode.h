#pragma once

// The MIME decoding steps of the mail reader, each lenient and never throwing: transfer
// encodings (RFC 2045 base64 and quoted-printable), encoded words in headers (RFC 2047) and
// header parameters, including RFC 2231's charset and continuation forms.

#include <map>
#include <string>
#include <string_view>

namespace switchboard::email {

struct Decoded {
  std::string bytes;
  bool clean = true; ///< false: the input had errors, skipped or kept as written
};

/// Base64, skipping white space; other stray characters are skipped and make it unclean.
Decoded decodeBase64(std::string_view text);

/// Quoted-printable with soft line breaks; a malformed '=' escape is kept as written.
Decoded decodeQuotedPrintable(std::string_view text);

/// A header value with its encoded words (=?charset?B|Q?...?=) decoded to UTF-8; white space
/// between adjacent encoded words is dropped, as RFC 2047 says. Raw 8-bit text outside encoded
/// words is read as UTF-8, or as Windows-1252 where it is not UTF-8.
std::string decodeEncodedWords(std::string_view value);

/// A structured header value such as Content-Type or Content-Disposition.
struct ParameterizedValue {
  std::string value; ///< lower case, trimmed: "multipart/mixed", "attachment"
  std::map<std::string, std::string> parameters; ///< names lower case; values decoded to UTF-8
};

/// Splits `type/subtype; name=value; name="quoted"; name*=utf-8''%C3%A3; name*0*=...` into its
/// value and parameters. RFC 2231 continuations are joined and their charset applied; encoded
/// words inside quoted values (a common breach of RFC 2047) are decoded too.
ParameterizedValue parseParameterized(std::string_view header);

} // namespace switchboard::email
