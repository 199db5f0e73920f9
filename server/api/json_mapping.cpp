#include "json_mapping.h"

#include "switchboard/timestamp.h"

#include <algorithm>
#include <limits>

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

/// An attribute object: every member a string, in the order given.
std::vector<Attribute> attributesFromJson(JsonReader& reader, std::string_view key) {
  std::vector<Attribute> attributes;
  const JsonValue* object = reader.optObject(key);
  if (!object) {
    return attributes;
  }
  attributes.reserve(object->size());
  for (auto member : object->members()) {
    if (!member.value.isString()) {
      reader.fail(std::string(key) + "." + std::string(member.name), "expected a string");
    }
    attributes.push_back({std::string(member.name), std::string(member.value.string())});
  }
  return attributes;
}

Address addressFromJson(JsonReader& reader) {
  Address address;
  address.kind = reader.string("kind");
  address.value = reader.string("value");
  address.name = reader.optString("name");
  reader.done();
  return address;
}

Customer customerFromJson(JsonReader& reader) {
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

} // namespace

JsonDocument parseObject(std::string_view body, bool emptyIsObject) {
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) {
    if (emptyIsObject) {
      return JsonDocument::emptyObject();
    }
    throw ApiError(ApiErrorCode::BadRequest, "the request needs a JSON object as its body",
                   "Malformed JSON");
  }
  auto parsed = JsonDocument::parse(body);
  if (!parsed.ok()) {
    throw ApiError(ApiErrorCode::BadRequest,
                   "the body is not valid JSON: " + parsed.error().toString(), "Malformed JSON");
  }
  if (!parsed->root().isObject()) {
    throw ApiError(ApiErrorCode::BadRequest, "the body must be a JSON object", "Malformed JSON");
  }
  return std::move(parsed).value();
}

JsonReader::JsonReader(const JsonValue& object, const JsonReader* parent, std::string_view key,
                       std::size_t index)
    : object_(object), parent_(parent), key_(key), index_(index) {
  if (object.size() > kReadBits) {
    readBeyond_.resize(object.size() - kReadBits);
  }
}

std::string JsonReader::where() const {
  if (!parent_) {
    return {};
  }
  std::string path = parent_->where();
  path += key_;
  if (index_ != kNoIndex) {
    path += "[" + std::to_string(index_) + "]";
  }
  path += '.';
  return path;
}

const JsonValue* JsonReader::get(std::string_view key) {
  std::size_t index = object_.indexOf(key);
  if (index == JsonValue::npos) {
    return nullptr;
  }
  if (index < kReadBits) {
    read_ |= std::uint64_t{1} << index;
  } else {
    readBeyond_[index - kReadBits] = true;
  }
  const JsonValue& value = object_.members()[index].value;
  return value.isNull() ? nullptr : &value;
}

void JsonReader::fail(std::string_view key, std::string_view problem) const {
  throw ApiError(ApiErrorCode::BadRequest,
                 "field '" + where() + std::string(key) + "': " + std::string(problem),
                 "Invalid request body");
}

std::optional<std::string> JsonReader::optString(std::string_view key) {
  const JsonValue* value = get(key);
  if (!value) {
    return std::nullopt;
  }
  if (!value->isString()) {
    fail(key, "expected a string");
  }
  return std::string(value->string());
}

std::string JsonReader::string(std::string_view key) {
  auto value = optString(key);
  if (!value || value->empty()) {
    fail(key, "required, a non-empty string");
  }
  return std::move(*value);
}

std::optional<long long> JsonReader::optInteger(std::string_view key, long long min,
                                                long long max) {
  const JsonValue* value = get(key);
  if (!value) {
    return std::nullopt;
  }
  if (!value->integral()) {
    // 1.5, 3.0 and 1e2 alike: only a number written as an integer is one.
    fail(key, "expected an integer");
  }
  if (value->type() != JsonValue::Type::Integer) {
    fail(key, "integer out of range");
  }
  long long number = value->integer();
  if (number < min || number > max) {
    fail(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return number;
}

std::optional<bool> JsonReader::optBool(std::string_view key) {
  const JsonValue* value = get(key);
  if (!value) {
    return std::nullopt;
  }
  if (!value->isBool()) {
    fail(key, "expected true or false");
  }
  return value->boolean();
}

const JsonValue* JsonReader::optObject(std::string_view key) {
  const JsonValue* value = get(key);
  if (value && !value->isObject()) {
    fail(key, "expected an object");
  }
  return value;
}

const JsonValue* JsonReader::optArray(std::string_view key) {
  const JsonValue* value = get(key);
  if (value && !value->isArray()) {
    fail(key, "expected an array");
  }
  return value;
}

void JsonReader::done() const {
  auto members = object_.members();
  for (std::size_t i = 0; i < members.size(); ++i) {
    bool read = i < kReadBits ? (read_ >> i) & 1 : readBeyond_[i - kReadBits];
    if (!read) {
      throw ApiError(ApiErrorCode::BadRequest,
                     "unknown field '" + where() + std::string(members[i].name) + "'",
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

namespace {

/// Calls `read(JsonReader&)` for each object of the array at `key`.
template <class Read>
void forEachObject(JsonReader& reader, std::string_view key, Read&& read) {
  const JsonValue* array = reader.optArray(key);
  if (!array) {
    return;
  }
  auto elements = array->elements();
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (!elements[i].isObject()) {
      reader.fail(key, "expected an array of objects");
    }
    JsonReader entry(elements[i], reader, key, i);
    read(entry);
  }
}

} // namespace

Agent agentFromJson(const JsonValue& object, const std::string& id) {
  JsonReader reader(object);
  Agent agent;
  agent.id = id;
  if (auto bodyId = reader.optString("id"); bodyId && *bodyId != id) {
    reader.fail("id", "differs from the agent id in the path");
  }
  for (const char* readOnly :
       {"state", "stateReason", "stateSince", "lastContact", "contactsToday"}) {
    if (reader.has(readOnly)) {
      reader.fail(readOnly, "read-only; set the state with POST /v1/agents/{id}/state");
    }
  }
  agent.name = reader.optString("name");
  agent.site = reader.optString("site");
  if (auto seniority = reader.optInteger("seniority", 0, 1000000)) {
    agent.seniority = static_cast<int>(*seniority);
  }
  forEachObject(reader, "skills", [&](JsonReader& skill) {
    std::string name = skill.string("name");
    int level = static_cast<int>(skill.optInteger("level", 0, 10).value_or(0));
    skill.done();
    agent.skills.push_back({std::move(name), level});
  });
  forEachObject(reader, "capacity", [&](JsonReader& medium) {
    Capacity value;
    value.medium = medium.string("medium");
    auto max = medium.optInteger("max", 0, 1000);
    if (!max) {
      medium.fail("max", "required, an integer from 0 to 1000");
    }
    value.max = static_cast<int>(*max);
    medium.done();
    agent.capacity.push_back(std::move(value));
  });
  agent.attributes = attributesFromJson(reader, "attributes");
  reader.done();
  return agent;
}

std::vector<Address> addressesFromJson(JsonReader& reader, std::string_view key) {
  std::vector<Address> addresses;
  forEachObject(reader, key,
                [&](JsonReader& entry) { addresses.push_back(addressFromJson(entry)); });
  return addresses;
}

Body bodyFromJson(JsonReader& reader, std::string_view key) {
  Body body;
  const JsonValue* object = reader.optObject(key);
  if (!object) {
    reader.fail(key, "required, an object with \"text\" (and \"type\")");
  }
  JsonReader fields(*object, reader, key);
  body.type = fields.optString("type");
  body.text = fields.optString("text").value_or("");
  fields.done();
  return body;
}

std::vector<Attachment> attachmentsFromJson(JsonReader& reader, std::string_view key) {
  std::vector<Attachment> attachments;
  forEachObject(reader, key, [&](JsonReader& fields) {
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
  });
  return attachments;
}

WorkItem workItemFromJson(const JsonValue& object) {
  JsonReader reader(object);
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
  if (const JsonValue* customer = reader.optObject("customer")) {
    JsonReader fields(*customer, reader, "customer");
    item.customer = customerFromJson(fields);
  }
  if (const JsonValue* contactPoint = reader.optObject("contactPoint")) {
    JsonReader fields(*contactPoint, reader, "contactPoint");
    item.contactPoint = addressFromJson(fields);
  }
  item.subject = reader.optString("subject");
  if (reader.has("body")) {
    item.body = bodyFromJson(reader, "body");
  }
  item.attachments = attachmentsFromJson(reader, "attachments");
  item.attributes = attributesFromJson(reader, "attributes");
  reader.done();
  return item;
}

} // namespace switchboard::api
