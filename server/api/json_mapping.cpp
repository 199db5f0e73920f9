#include "json_mapping.h"

#include "switchboard/timestamp.h"

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>

namespace switchboard::api {

namespace {

void setIf(JsonObject object, const std::string& key, const std::optional<std::string>& v) {
  if (v) {
    object->set(key, *v);
  }
}

void setIf(JsonObject object, const std::string& key, const std::optional<int>& v) {
  if (v) {
    object->set(key, *v);
  }
}

void setIf(JsonObject object, const std::string& key, const std::optional<Timestamp>& v) {
  if (v) {
    object->set(key, formatTimestamp(*v));
  }
}

template <class E>
void setEnumIf(JsonObject object, const std::string& key, const std::optional<E>& v) {
  if (v) {
    object->set(key, std::string(toString(*v)));
  }
}

JsonObject attributesJson(const std::vector<Attribute>& attributes) {
  auto object = newObject();
  for (const auto& attribute : attributes) {
    object->set(attribute.name, attribute.value);
  }
  return object;
}

JsonObject toJson(const Address& address) {
  auto object = newObject();
  object->set("kind", address.kind);
  object->set("value", address.value);
  setIf(object, "name", address.name);
  return object;
}

JsonObject toJson(const Body& body) {
  auto object = newObject();
  object->set("type", body.type.value_or("text/plain"));
  object->set("text", body.text);
  return object;
}

JsonObject toJson(const Customer& customer) {
  auto object = newObject();
  setIf(object, "ref", customer.ref);
  setIf(object, "name", customer.name);
  setIf(object, "language", customer.language);
  setIf(object, "tier", customer.tier);
  setIf(object, "lastAgent", customer.lastAgentId);
  Poco::JSON::Array addresses;
  for (const auto& address : customer.addresses) {
    addresses.add(toJson(address));
  }
  object->set("addresses", addresses);
  object->set("attributes", attributesJson(customer.attributes));
  return object;
}

JsonObject toJson(const Attachment& attachment) {
  auto object = newObject();
  setIf(object, "name", attachment.name);
  object->set("type", attachment.type);
  object->set("size", static_cast<Poco::Int64>(attachment.size));
  object->set("digest", attachment.digest);
  setIf(object, "ref", attachment.ref);
  return object;
}

JsonObject toJson(const TranscriptLine& line) {
  auto object = newObject();
  setIf(object, "id", line.id);
  object->set("time", formatTimestamp(line.time));
  object->set("author", std::string(toString(line.author)));
  setIf(object, "name", line.name);
  object->set("text", line.text);
  return object;
}

JsonObject toJson(const HistoryEntry& entry) {
  auto object = newObject();
  object->set("time", formatTimestamp(entry.time));
  setEnumIf(object, "state", entry.state);
  object->set("cause", entry.cause);
  setIf(object, "actor", entry.actorId);
  return object;
}

template <class T>
Poco::JSON::Array arrayOf(const std::vector<T>& values) {
  Poco::JSON::Array array;
  for (const auto& value : values) {
    array.add(toJson(value));
  }
  return array;
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

} // namespace

JsonObject newObject() {
  return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

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

std::string stringify(const JsonObject& object) {
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(object, out);
  return std::move(out).str();
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

JsonObject toJson(const Agent& agent) {
  auto object = newObject();
  object->set("id", agent.id);
  setIf(object, "name", agent.name);
  setIf(object, "site", agent.site);
  setEnumIf(object, "state", agent.state);
  setIf(object, "stateReason", agent.stateReason);
  setIf(object, "stateSince", agent.stateSince);
  setIf(object, "seniority", agent.seniority);
  setIf(object, "lastContact", agent.lastContact);
  setIf(object, "contactsToday", agent.contactsToday);
  Poco::JSON::Array skills;
  for (const auto& skill : agent.skills) {
    auto entry = newObject();
    entry->set("name", skill.name);
    entry->set("level", skill.level);
    skills.add(entry);
  }
  object->set("skills", skills);
  Poco::JSON::Array capacity;
  for (const auto& medium : agent.capacity) {
    auto entry = newObject();
    entry->set("medium", medium.medium);
    entry->set("max", medium.max);
    setIf(entry, "active", medium.active);
    capacity.add(entry);
  }
  object->set("capacity", capacity);
  object->set("attributes", attributesJson(agent.attributes));
  return object;
}

JsonObject toJson(const StoredWorkItem& stored, bool withHistory) {
  const auto& item = stored.item;
  auto object = newObject();
  object->set("id", item.id.value_or(""));
  object->set("medium", item.medium);
  setEnumIf(object, "state", item.state);
  object->set("priority", item.priority.value_or(50));
  setIf(object, "queue", item.queueId);
  setIf(object, "agent", item.agentId);
  setIf(object, "created", item.created);
  object->set("updated", formatTimestamp(stored.updated));
  setIf(object, "offerExpires", stored.offerExpires);
  object->set("source", stored.source);
  setIf(object, "sourceKey", item.sourceKey);
  setIf(object, "thread", item.thread);
  if (item.customer) {
    object->set("customer", toJson(*item.customer));
  }
  if (item.contactPoint) {
    object->set("contactPoint", toJson(*item.contactPoint));
  }
  setIf(object, "subject", item.subject);
  if (item.body) {
    object->set("body", toJson(*item.body));
  }
  object->set("transcript", arrayOf(item.transcript));
  object->set("attachments", arrayOf(item.attachments));
  object->set("attributes", attributesJson(item.attributes));
  if (withHistory) {
    object->set("history", arrayOf(item.history));
  }
  return object;
}

JsonObject toJson(const WorkItemDetails& details) {
  auto object = toJson(details.stored, true);
  if (details.trace) {
    object->set("trace", *details.trace);
  }
  return object;
}

JsonObject toJson(const QueueStatus& queue) {
  auto object = newObject();
  object->set("id", queue.id);
  object->set("waiting", static_cast<Poco::UInt64>(queue.waiting));
  object->set("oldestWaitMs", static_cast<Poco::Int64>(queue.oldestWait.count()));
  object->set("agentsReady", static_cast<Poco::UInt64>(queue.agentsReady));
  object->set("agentsBusy", static_cast<Poco::UInt64>(queue.agentsBusy));
  object->set("serviceLevel", queue.serviceLevel);
  object->set("answeredToday", static_cast<Poco::UInt64>(queue.answeredToday));
  object->set("abandonedToday", static_cast<Poco::UInt64>(queue.abandonedToday));
  return object;
}

JsonObject toJson(const DeadLetter& letter) {
  auto object = newObject();
  object->set("id", static_cast<Poco::Int64>(letter.id));
  object->set("time", formatTimestamp(letter.time));
  object->set("source", letter.source);
  object->set("reason", letter.reason);
  object->set("document", letter.document);
  return object;
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
