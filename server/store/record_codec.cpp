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

} // namespace

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
  return codec_.encode(message);
}

std::optional<WorkItem> RecordCodec::decodeWorkItem(std::string_view record) const {
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
