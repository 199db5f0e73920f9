#pragma once

// JSON <-> the value types of message.h, store.h and service.h: the one place that knows how a
// resource looks in JSON (docs/openapi.json describes the same shapes). Readers are strict:
// a field of the wrong type, out of range or unknown is an ApiError(BadRequest) naming the
// field.

#include "api_error.h"
#include "switchboard/json_document.h"
#include "switchboard/json_writer.h"
#include "switchboard/message.h"
#include "switchboard/service.h"
#include "switchboard/store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::api {

/// Parses a request body that must be a JSON object (JsonDocument::parse: strict, and a member
/// name twice in one object is refused). Throws ApiError(BadRequest, "Malformed JSON") naming
/// the line, column and what is wrong; an empty body is an empty object when `emptyIsObject`,
/// otherwise an error. The document refers to `body`: keep it alive while reading.
JsonDocument parseObject(std::string_view body, bool emptyIsObject);

/// Reads the fields of one object and refuses the ones nobody asked for (done()). A member
/// whose value is null reads as absent. Field names in errors carry the path from the body's
/// top ("customer.addresses[0].kind"), built only when an error is thrown.
class JsonReader {
 public:
  /// The body's top-level object.
  explicit JsonReader(const JsonValue& object) : JsonReader(object, nullptr, {}, kNoIndex) {}
  /// The object at `key` of `parent` (at `index` when `key` is an array). `parent` and `key`
  /// must outlive this reader.
  JsonReader(const JsonValue& object, const JsonReader& parent, std::string_view key,
             std::size_t index = kNoIndex)
      : JsonReader(object, &parent, key, index) {}

  std::optional<std::string> optString(std::string_view key);
  /// Required and not empty.
  std::string string(std::string_view key);
  std::optional<long long> optInteger(std::string_view key, long long min, long long max);
  std::optional<bool> optBool(std::string_view key);
  /// The object at `key`, or nullptr when absent or null.
  const JsonValue* optObject(std::string_view key);
  /// The array at `key`, or nullptr when absent or null.
  const JsonValue* optArray(std::string_view key);
  /// True when the object has `key`, even with a null value. Does not count as reading it.
  bool has(std::string_view key) const { return object_.find(key) != nullptr; }
  /// Throws for a member that no accessor above has read.
  void done() const;
  /// Throws ApiError(BadRequest) about `key`.
  [[noreturn]] void fail(std::string_view key, std::string_view problem) const;

  /// The path of this object's fields: "" at the top, "customer.", "skills[2].".
  std::string where() const;

  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

 private:
  JsonReader(const JsonValue& object, const JsonReader* parent, std::string_view key,
             std::size_t index);
  /// The value at `key`, marked as read; nullptr when absent or null.
  const JsonValue* get(std::string_view key);

  const JsonValue& object_;
  const JsonReader* parent_;
  std::string_view key_;
  std::size_t index_;
  static constexpr std::size_t kReadBits = 64;
  std::uint64_t read_ = 0;       ///< members read, by position: the first kReadBits
  std::vector<bool> readBeyond_; ///< and the ones after, in the rare object that has more
};

// ---------------------------------------------------------------------------------- writing

// Each writes one resource as a JSON object.
void writeJson(JsonWriter& json, const Agent& agent);
void writeJson(JsonWriter& json, const StoredWorkItem& stored, bool withHistory);
void writeJson(JsonWriter& json, const WorkItemDetails& details);
void writeJson(JsonWriter& json, const QueueStatus& queue);
void writeJson(JsonWriter& json, const DeadLetter& letter);

// ---------------------------------------------------------------------------------- reading

/// An agent profile for PUT /v1/agents/{id}; its id is `id` (a different "id" in the body is
/// refused). State fields are read-only here.
Agent agentFromJson(const JsonValue& object, const std::string& id);
inline Agent agentFromJson(const JsonDocument& body, const std::string& id) {
  return agentFromJson(body.root(), id);
}
/// A work item for POST /v1/work-items (medium required; the server sets id, state, created).
WorkItem workItemFromJson(const JsonValue& object);
inline WorkItem workItemFromJson(const JsonDocument& body) {
  return workItemFromJson(body.root());
}
std::vector<Address> addressesFromJson(JsonReader& reader, std::string_view key);
Body bodyFromJson(JsonReader& reader, std::string_view key);
std::vector<Attachment> attachmentsFromJson(JsonReader& reader, std::string_view key);

/// A known enumerator spelled as in the message format, or ApiError(BadRequest) listing them.
template <class E>
E enumFromJson(JsonReader& reader, std::string_view key, const std::string& text) {
  auto value = enumFromString<E>(text);
  if (!value) {
    std::string known;
    for (auto name : EnumNames<E>::kNames) {
      known += known.empty() ? "" : ", ";
      known += name;
    }
    reader.fail(key, "expected one of " + known);
  }
  return *value;
}

} // namespace switchboard::api
