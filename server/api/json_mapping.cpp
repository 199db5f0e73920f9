#include "json_mapping.h"

#include "switchboard/timestamp.h"

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>

namespace switchboard::api {

namespace {

void timeMember(JsonWriter& json, std::string_view key, const std::optional<Timestamp>& v) {
  if (v) {
    json.member(key, formatTimestamp(*v));
  }
}

template <class E>
void enumMember(JsonWriter& json, std::string_view key, const std::optional<E>& v) {
  if (v) {
    json.member(key, toString(*v));
  }
}

/// An attribute named twice keeps its last value, as when the item was built.
void writeAttributes(JsonWriter& json, const std::vector<Attribute>& attributes) {
  json.beginObject();
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    bool later =
        std::any_of(attributes.begin() + static_cast<std::ptrdiff_t>(i) + 1, attributes.end(),
                    [&](const Attribute& a) { return a.name == attributes[i].name; });
    if (!later) {
      json.member(attributes[i].name, attributes[i].value);
    }
  }
  json.endObject();
}

void writeJson(JsonWriter& json, const Address& address) {
  json.beginObject().member("kind", address.kind).member("value", address.value);
  json.optionalMember("name", address.name).endObject();
}

void writeJson(JsonWriter& json, const Body& body) {
  json.beginObject()
      .member("type", body.type.value_or("text/plain"))
      .member("text", body.text)
      .endObject();
}

void writeJson(JsonWriter& json, const Customer& customer) {
  json.beginObject()
      .optionalMember("ref", customer.ref)
      .optionalMember("name", customer.name)
      .optionalMember("language", customer.language)
      .optionalMember("tier", customer.tier)
      .optionalMember("lastAgent", customer.lastAgentId);
  json.key("addresses").beginArray();
  for (const auto& address : customer.addresses) {
    writeJson(json, address);
  }
  json.endArray();
  json.key("attributes");
  writeAttributes(json, customer.attributes);
  json.endObject();
}

void writeJson(JsonWriter& json, const Attachment& attachment) {
  json.beginObject()
      .optionalMember("name", attachment.name)
      .member("type", attachment.type)
      .member("size", static_cast<std::int64_t>(attachment.size))
      .member("digest", attachment.digest)
      .optionalMember("ref", attachment.ref)
      .endObject();
}

void writeJson(JsonWriter& json, const TranscriptLine& line) {
  json.beginObject()
      .optionalMember("id", line.id)
      .member("time", formatTimestamp(line.time))
      .member("author", toString(line.author))
      .optionalMember("name", line.name)
      .member("text", line.text)
      .endObject();
}

void writeJson(JsonWriter& json, const HistoryEntry& entry) {
  json.beginObject().member("time", formatTimestamp(entry.time));
  enumMember(json, "state", entry.state);
  json.member("cause", entry.cause).optionalMember("actor", entry.actorId).endObject();
}

template <class T>
void writeArray(JsonWriter& json, std::string_view key, const std::vector<T>& values) {
  json.key(key).beginArray();
  for (const auto& value : values) {
    writeJson(json, value);
  }
  json.endArray();
}

std::vector<Attribute> attributesFromJson(JsonReader& reader, const std::string& key) {
  std::vector<Attribute> attributes;
  auto object = reader.optObject(key);
  if (!object) {
    return attributes;
  }
  for (const auto& name : object->getNames()) {
    auto value = object->get(name);
    if (!value.isString()) {
      reader.fail(key + "." + name, "expected a string");
    }
    attributes.push_back({name, value.extract<std::string>()});
  }
  return attributes;
}

Customer customerFromJson(const JsonObject& object, const std::string& where) {
  JsonReader reader(object, where);
  Customer customer;
  customer.ref = reader.optString("ref");
  customer.name = reader.optString("name");
  customer.language = reader.optString("language");
  customer.tier = reader.optString("tier");
  customer.lastAgentId = reader.optString("lastAgent");
  customer.addresses = addressesFromJson(reader, "addresses");
  customer.attributes = attributesFromJson(reader, "attributes");
  reader.done();
  return customer;
}

JsonObject newObject() {
  return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

} // namespace

JsonObject parseObject(std::string_view body, bool emptyIsObject) {
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) {
    if (emptyIsObject) {
      return newObject();
    }
    throw ApiError(ApiErrorCode::BadRequest, "the request needs a JSON object as its body",
                   "Malformed JSON");
  }
  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(std::string(body));
  } catch (const Poco::Exception& e) {
    throw ApiError(ApiErrorCode::BadRequest, "the body is not valid JSON: " + e.message(),
                   "Malformed JSON");
  }
  if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw ApiError(ApiErrorCode::BadRequest, "the body must be a JSON object", "Malformed JSON");
  }
  return parsed.extract<Poco::JSON::Object::Ptr>();
}

JsonReader::JsonReader(JsonObject object, std::string where)
    : object_(std::move(object)), where_(std::move(where)) {}

Poco::Dynamic::Var JsonReader::get(const std::string& key) {
  read_.insert(key);
  if (!object_->has(key)) {
    return {};
  }
  return object_->get(key);
}

void JsonReader::fail(const std::string& key, std::string_view problem) const {
  throw ApiError(ApiErrorCode::BadRequest, "field '" + where_ + key + "': " + std::string(problem),
                 "Invalid request body");
}

std::optional<std::string> JsonReader::optString(const std::string& key) {
  auto value = get(key);
  if (value.isEmpty()) {
    return std::nullopt;
  }
  if (!value.isString()) {
    fail(key, "expected a string");
  }
  return value.extract<std::string>();
}

std::string JsonReader::string(const std::string& key) {
  auto value = optString(key);
  if (!value || value->empty()) {
    fail(key, "required, a non-empty string");
  }
  return *value;
}

std::optional<long long> JsonReader::optInteger(const std::string& key, long long min,
                                                long long max) {
  auto value = get(key);
  if (value.isEmpty()) {
    return std::nullopt;
  }
  if (!value.isInteger()) {
    fail(key, "expected an integer");
  }
  long long number = 0;
  try {
    number = value.convert<Poco::Int64>();
  } catch (const Poco::Exception&) {
    fail(key, "integer out of range");
  }
  if (number < min || number > max) {
    fail(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return number;
}

std::optional<bool> JsonReader::optBool(const std::string& key) {
  auto value = get(key);
  if (value.isEmpty()) {
    return std::nullopt;
  }
  if (!value.isBoolean()) {
    fail(key, "expected true or false");
  }
  return value.extract<bool>();
}

JsonObject JsonReader::optObject(const std::string& key) {
  auto value = get(key);
  if (value.isEmpty()) {
    return nullptr;
  }
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
    fail(key, "expected an object");
  }
  return value.extract<Poco::JSON::Object::Ptr>();
}

JsonArray JsonReader::optArray(const std::string& key) {
  auto value = get(key);
  if (value.isEmpty()) {
    return nullptr;
  }
  if (value.type() != typeid(Poco::JSON::Array::Ptr)) {
    fail(key, "expected an array");
  }
  return value.extract<Poco::JSON::Array::Ptr>();
}

void JsonReader::done() const {
  for (const auto& name : object_->getNames()) {
    if (!read_.contains(name)) {
      throw ApiError(ApiErrorCode::BadRequest, "unknown field '" + where_ + name + "'",
                     "Invalid request body");
    }
  }
}

// ---------------------------------------------------------------------------------- writing

void writeJson(JsonWriter& json, const Agent& agent) {
  json.beginObject()
      .member("id", agent.id)
      .optionalMember("name", agent.name)
      .optionalMember("site", agent.site);
  enumMember(json, "state", agent.state);
  json.optionalMember("stateReason", agent.stateReason);
  timeMember(json, "stateSince", agent.stateSince);
  json.optionalMember("seniority", agent.seniority);
  timeMember(json, "lastContact", agent.lastContact);
  json.optionalMember("contactsToday", agent.contactsToday);
  json.key("skills").beginArray();
  for (const auto& skill : agent.skills) {
    json.beginObject().member("name", skill.name).member("level", skill.level).endObject();
  }
  json.endArray();
  json.key("capacity").beginArray();
  for (const auto& medium : agent.capacity) {
    json.beginObject()
        .member("medium", medium.medium)
        .member("max", medium.max)
        .optionalMember("active", medium.active)
        .endObject();
  }
  json.endArray();
  json.key("attributes");
  writeAttributes(json, agent.attributes);
  json.endObject();
}

namespace {

/// The members of a work item, without the closing brace (details add their trace).
void writeWorkItemMembers(JsonWriter& json, const StoredWorkItem& stored, bool withHistory) {
  const auto& item = stored.item;
  json.beginObject().member("id", item.id.value_or("")).member("medium", item.medium);
  enumMember(json, "state", item.state);
  json.member("priority", item.priority.value_or(50))
      .optionalMember("queue", item.queueId)
      .optionalMember("agent", item.agentId);
  timeMember(json, "created", item.created);
  json.member("updated", formatTimestamp(stored.updated));
  timeMember(json, "offerExpires", stored.offerExpires);
  json.member("source", stored.source)
      .optionalMember("sourceKey", item.sourceKey)
      .optionalMember("thread", item.thread);
  if (item.customer) {
    json.key("customer");
    writeJson(json, *item.customer);
  }
  if (item.contactPoint) {
    json.key("contactPoint");
    writeJson(json, *item.contactPoint);
  }
  json.optionalMember("subject", item.subject);
  if (item.body) {
    json.key("body");
    writeJson(json, *item.body);
  }
  writeArray(json, "transcript", item.transcript);
  writeArray(json, "attachments", item.attachments);
  json.key("attributes");
  writeAttributes(json, item.attributes);
  if (withHistory) {
    writeArray(json, "history", item.history);
  }
}

} // namespace

void writeJson(JsonWriter& json, const StoredWorkItem& stored, bool withHistory) {
  writeWorkItemMembers(json, stored, withHistory);
  json.endObject();
}

void writeJson(JsonWriter& json, const WorkItemDetails& details) {
  writeWorkItemMembers(json, details.stored, true);
  json.optionalMember("trace", details.trace).endObject();
}

void writeJson(JsonWriter& json, const QueueStatus& queue) {
  json.beginObject()
      .member("id", queue.id)
      .member("waiting", queue.waiting)
      .member("oldestWaitMs", static_cast<std::int64_t>(queue.oldestWait.count()))
      .member("agentsReady", queue.agentsReady)
      .member("agentsBusy", queue.agentsBusy)
      .member("serviceLevel", queue.serviceLevel)
      .member("answeredToday", queue.answeredToday)
      .member("abandonedToday", queue.abandonedToday)
      .endObject();
}

void writeJson(JsonWriter& json, const DeadLetter& letter) {
  json.beginObject()
      .member("id", static_cast<std::int64_t>(letter.id))
      .member("time", formatTimestamp(letter.time))
      .member("source", letter.source)
      .member("reason", letter.reason)
      .member("document", letter.document)
      .endObject();
}

// ---------------------------------------------------------------------------------- reading

Agent agentFromJson(const JsonObject& object, const std::string& id) {
  JsonReader reader(object, "");
  Agent agent;
  agent.id = id;
  if (auto bodyId = reader.optString("id"); bodyId && *bodyId != id) {
    reader.fail("id", "differs from the agent id in the path");
  }
  for (const char* readOnly :
       {"state", "stateReason", "stateSince", "lastContact", "contactsToday"}) {
    if (object->has(readOnly)) {
      reader.fail(readOnly, "read-only; set the state with POST /v1/agents/{id}/state");
    }
  }
  agent.name = reader.optString("name");
  agent.site = reader.optString("site");
  if (auto seniority = reader.optInteger("seniority", 0, 1000000)) {
    agent.seniority = static_cast<int>(*seniority);
  }
  if (auto skills = reader.optArray("skills")) {
    for (std::size_t i = 0; i < skills->size(); ++i) {
      std::string where = "skills[" + std::to_string(i) + "].";
      auto entry = skills->getObject(static_cast<unsigned>(i));
      if (!entry) {
        reader.fail("skills", "expected an array of objects");
      }
      JsonReader skill(entry, where);
      agent.skills.push_back(
          {skill.string("name"), static_cast<int>(skill.optInteger("level", 0, 10).value_or(0))});
      skill.done();
    }
  }
  if (auto capacity = reader.optArray("capacity")) {
    for (std::size_t i = 0; i < capacity->size(); ++i) {
      std::string where = "capacity[" + std::to_string(i) + "].";
      auto entry = capacity->getObject(static_cast<unsigned>(i));
      if (!entry) {
        reader.fail("capacity", "expected an array of objects");
      }
      JsonReader medium(entry, where);
      Capacity value;
      value.medium = medium.string("medium");
      auto max = medium.optInteger("max", 0, 1000);
      if (!max) {
        medium.fail("max", "required, an integer from 0 to 1000");
      }
      value.max = static_cast<int>(*max);
      medium.done();
      agent.capacity.push_back(std::move(value));
    }
  }
  agent.attributes = attributesFromJson(reader, "attributes");
  reader.done();
  return agent;
}

Address addressFromJson(const JsonObject& object, const std::string& where) {
  JsonReader reader(object, where);
  Address address;
  address.kind = reader.string("kind");
  address.value = reader.string("value");
  address.name = reader.optString("name");
  reader.done();
  return address;
}

std::vector<Address> addressesFromJson(JsonReader& reader, const std::string& key) {
  std::vector<Address> addresses;
  auto array = reader.optArray(key);
  if (!array) {
    return addresses;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto entry = array->getObject(static_cast<unsigned>(i));
    if (!entry) {
      reader.fail(key, "expected an array of objects");
    }
    addresses.push_back(
        addressFromJson(entry, reader.where() + key + "[" + std::to_string(i) + "]."));
  }
  return addresses;
}

Body bodyFromJson(JsonReader& reader, const std::string& key) {
  Body body;
  auto object = reader.optObject(key);
  if (!object) {
    reader.fail(key, "required, an object with \"text\" (and \"type\")");
  }
  JsonReader fields(object, reader.where() + key + ".");
  body.type = fields.optString("type");
  body.text = fields.optString("text").value_or("");
  fields.done();
  return body;
}

std::vector<Attachment> attachmentsFromJson(JsonReader& reader, const std::string& key) {
  std::vector<Attachment> attachments;
  auto array = reader.optArray(key);
  if (!array) {
    return attachments;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto entry = array->getObject(static_cast<unsigned>(i));
    if (!entry) {
      reader.fail(key, "expected an array of objects");
    }
    JsonReader fields(entry, reader.where() + key + "[" + std::to_string(i) + "].");
    Attachment attachment;
    attachment.name = fields.optString("name");
    attachment.type = fields.string("type");
    attachment.size =
        fields.optInteger("size", 0, std::numeric_limits<long long>::max()).value_or(0);
    attachment.digest = fields.string("digest");
    if (!attachment.digest.starts_with("sha256:") || attachment.digest.size() != 71) {
      fields.fail("digest", "expected \"sha256:\" and 64 hex digits");
    }
    attachment.ref = fields.optString("ref");
    fields.done();
    attachments.push_back(std::move(attachment));
  }
  return attachments;
}

WorkItem workItemFromJson(const JsonObject& object) {
  JsonReader reader(object, "");
  WorkItem item;
  item.medium = reader.string("medium");
  for (char c : item.medium) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
      reader.fail("medium", "expected a lower-case token (email, fax, chat, voice, ...)");
    }
  }
  if (auto priority = reader.optInteger("priority", 0, 100)) {
    item.priority = static_cast<int>(*priority);
  }
  item.queueId = reader.optString("queue");
  item.sourceKey = reader.optString("sourceKey");
  item.thread = reader.optString("thread");
  if (auto customer = reader.optObject("customer")) {
    item.customer = customerFromJson(customer, "customer.");
  }
  if (auto contactPoint = reader.optObject("contactPoint")) {
    item.contactPoint = addressFromJson(contactPoint, "contactPoint.");
  }
  item.subject = reader.optString("subject");
  if (object->has("body")) {
    item.body = bodyFromJson(reader, "body");
  }
  item.attachments = attachmentsFromJson(reader, "attachments");
  item.attributes = attributesFromJson(reader, "attributes");
  reader.done();
  return item;
}

} // namespace switchboard::api
