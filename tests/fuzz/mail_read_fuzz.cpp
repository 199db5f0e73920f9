// Feeds arbitrary bytes to the mail reader (MIME structure, transfer encodings, charsets, encoded
// words, RFC 2231 parameters) and renders what it found. Besides not crashing or hanging (ASan
// and UBSan watch), it checks what the rest of Switchboard relies on: every text the reader hands
// on is valid UTF-8, and a refusal always says why.

#include "mail_reader.h"
#include "mime_charset.h"
#include "mime_html.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

void requireUtf8(const std::string& text, const char* what) {
  if (!switchboard::email::isUtf8(text)) {
    std::fprintf(stderr, "%s is not valid UTF-8\n", what);
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto mail = switchboard::email::readMail(bytes);
  if (!mail.ok()) {
    if (mail.error().empty()) {
      std::fprintf(stderr, "refused without a reason\n");
      std::abort();
    }
    return 0;
  }
  if (mail->subject) {
    requireUtf8(*mail->subject, "subject");
  }
  if (mail->text) {
    requireUtf8(*mail->text, "text");
  }
  if (mail->html) {
    requireUtf8(*mail->html, "html");
    requireUtf8(switchboard::email::htmlToText(*mail->html), "rendered html");
  }
  if (mail->from && mail->from->name) {
    requireUtf8(*mail->from->name, "sender name");
  }
  for (const auto& part : mail->attachments) {
    if (part.name) {
      requireUtf8(*part.name, "attachment name");
    }
  }
  return 0;
}
