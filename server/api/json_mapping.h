#pragma once

// JSON <-> the value types of message.h, store.h and service.h: the one place that knows how a
// resource looks in JSON (docs/openapi.json describes the same shapes). Readers are strict:
// a field of the wrong type, out of range or unknown is an ApiError(BadRequest) naming the
// field.

#include "api_error.h"
#include "switchboard/json_writer.h"
#include "switchboard/message.h"
#include "switchboard/service.h"
#include "switchboard/store.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace switchboard::api {

using JsonObject = Poco::JSON::Object::Ptr;
using JsonArray = Poco::JSON::Array::Ptr;

/// Parses a request body that must be a JSON object. Throws ApiError(BadRequest) naming what
/// is wrong; an empty body is an empty object when `emptyIsObject`, otherwise an error.
JsonObject parseObject(std::string_view body, bool emptyIsObject);

/// Reads the fields of one object and refuses the ones nobody asked for (done()).
class JsonReader {
 public:
  JsonReader(JsonObject object, std::string where);

  std::optional<std::string> optString(const std::string& key);
  std::string string(const std::string& key);
  std::optional<long long> optInteger(const std::string& key, long long min, long long max);
  std::optional<bool> optBool(const std::string& key);
  JsonObject optObject(const std::string& key);
  JsonArray optArray(const std::string& key);
  /// Throws for a key that no accessor above has read.
  void done() const;
  /// Throws ApiError(BadRequest) about `key`.
  [[noreturn]] void fail(const std::string& key, std::string_view problem) const;

  const std::string& where() const { return where_; }

 private:
  Poco::Dynamic::Var get(const std::string& key);

  JsonObject object_;
  std::string where_;
  std::set<std::string> read_;
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
Agent agentFromJson(const JsonObject& object, const std::string& id);
/// A work item for POST /v1/work-items (medium required; the server sets id, state, created).
WorkItem workItemFromJson(const JsonObject& object);
std::vector<Address> addressesFromJson(JsonReader& reader, const std::string& key);
Address addressFromJson(const JsonObject& object, const std::string& where);
Body bodyFromJson(JsonReader& reader, const std::string& key);
std::vector<Attachment> attachmentsFromJson(JsonReader& reader, const std::string& key);

/// A known enumerator spelled as in the message format, or ApiError(BadRequest) listing them.
template <class E>
E enumFromJson(JsonReader& reader, const std::string& key, const std::string& text) {
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
