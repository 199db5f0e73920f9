#include "record_codec.h"

namespace switchboard::store {

namespace {

// The envelope a record travels in: the answer to the request that would fetch it.
Message envelope(std::string_view answered) {
  Message message;
  message.id = "record";
  message.sender = Party{PartyType::Server, "store"};
  message.addressee = Party{PartyType::Server, "store"};
  message.payload = Response{std::string(answered), ResponseStatus::Ok, std::nullopt};
  return message;
}

constexpr std::string_view kItemStart = "<workItem";
constexpr std::string_view kItemEnd = "</workItem>";

} // namespace

RecordCodec::RecordCodec() {
  Message message = envelope(GetWorkItem::kKind);
  WorkItem& item = message.workItems.emplace_back();
  item.medium = "web";
  item.subject = "envelope"; // an element with content: its end tag is written out
  std::string document = codec_.encode(message);
  std::size_t start = document.find(kItemStart);
  std::size_t end = document.rfind(kItemEnd);
  if (start != std::string::npos && end != std::string::npos && start < end) {
    itemPrefix_ = document.substr(0, start);
    itemSuffix_ = document.substr(end + kItemEnd.size());
  }
  // Otherwise the prefix stays empty and records are written whole.
}

std::string RecordCodec::encodeWorkItem(const WorkItem& item) const {
  Message message = envelope(GetWorkItem::kKind);
  WorkItem& record = message.workItems.emplace_back(item);
  record.id.reset();
  record.state.reset();
  record.priority.reset();
  record.queueId.reset();
  record.agentId.reset();
  record.created.reset();
  record.sourceKey.reset();
  record.history.clear();
  std::string document = codec_.encode(message);
  std::string_view text(document);
  // The envelope is left out only where it is exactly the one decoding will put back.
  if (!itemPrefix_.empty() && text.starts_with(itemPrefix_) && text.ends_with(itemSuffix_) &&
      text.substr(itemPrefix_.size()).starts_with(kItemStart)) {
    return std::string(
        text.substr(itemPrefix_.size(), text.size() - itemPrefix_.size() - itemSuffix_.size()));
  }
  return document;
}

std::optional<WorkItem> RecordCodec::decodeWorkItem(std::string_view record) const {
  std::string whole;
  if (record.starts_with(kItemStart)) {
    whole.reserve(itemPrefix_.size() + record.size() + itemSuffix_.size());
    whole.append(itemPrefix_).append(record).append(itemSuffix_);
    record = whole;
  }
  auto decoded = codec_.decode(record);
  if (!decoded.ok() || decoded->workItems.size() != 1) {
    return std::nullopt;
  }
  return std::move(decoded->workItems.front());
}

std::string RecordCodec::encodeAgent(const Agent& agent) const {
  Message message = envelope(GetAgentState::kKind);
  message.agents.push_back(agent);
  return codec_.encode(message);
}

std::optional<Agent> RecordCodec::decodeAgent(std::string_view record) const {
  auto decoded = codec_.decode(record);
  if (!decoded.ok() || decoded->agents.size() != 1) {
    return std::nullopt;
  }
  return std::move(decoded->agents.front());
}

} // namespace switchboard::store
