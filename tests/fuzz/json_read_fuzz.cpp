// Feeds arbitrary bytes to JsonDocument::parse. Besides not crashing (ASan and UBSan watch), it
// checks properties: an error points inside the text; whatever parses, written back with
// JsonWriter, parses to the same tree, and writing that again gives the same text. Objects also
// go through the REST API's work item and agent readers, which may refuse them only with an
// ApiError.

#include "json_mapping.h"
#include "switchboard/json_document.h"
#include "switchboard/json_writer.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

std::string written(const switchboard::JsonValue& value) {
  std::string text;
  switchboard::JsonWriter writer(text);
  writeJson(writer, value);
  return text;
}

[[noreturn]] void failed(const char* what, const std::string& text) {
  std::fprintf(stderr, "%s:\n%s\n", what, text.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = switchboard::JsonDocument::parse(text);
  if (!parsed.ok()) {
    const auto& error = parsed.error();
    if (error.offset > size || error.line == 0 || error.column == 0 || error.message.empty()) {
      failed("an error outside the text", error.toString());
    }
    return 0;
  }
  std::string first = written(parsed->root());
  auto again = switchboard::JsonDocument::parse(first);
  if (!again.ok()) {
    failed(("the written document does not parse: " + again.error().toString()).c_str(), first);
  }
  if (!(again->root() == parsed->root())) {
    failed("the written document parses to another tree", first);
  }
  // Numbers may change their form once (3.0 is written 3, -0.0 is written -0 and read as 0),
  // never twice.
  std::string second = written(again->root());
  auto third = switchboard::JsonDocument::parse(second);
  if (!third.ok() || written(third->root()) != second) {
    failed("writing is not stable", second);
  }
  if (parsed->root().isObject()) {
    try {
      switchboard::api::workItemFromJson(parsed->root());
    } catch (const switchboard::api::ApiError&) {
    }
    try {
      switchboard::api::agentFromJson(parsed->root(), "a-1");
    } catch (const switchboard::api::ApiError&) {
    }
  }
  return 0;
}
