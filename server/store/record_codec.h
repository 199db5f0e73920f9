#pragma once

// How a work item or an agent is kept in its table's record column: as a message document
// (schemas/message/v1), written and read by the message codec. The stored form is the data format
// specification itself, so it is readable with any XML tool, and a later schema version reads old
// records the way it reads old messages. Fields that live in their own columns (a work item's id,
// state, queue, agent, priority, created, source key and history) are left out of the record;
// the reader puts the column values back.

#include "switchboard/message.h"
#include "switchboard/message_codec.h"

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::store {

class RecordCodec {
 public:
  /// The record of `item`, without the fields held in columns. Safe from many threads at once.
  std::string encodeWorkItem(const WorkItem& item) const;
  /// The item in `record`, or nothing when the record does not decode (the caller rebuilds what
  /// it can from the columns).
  std::optional<WorkItem> decodeWorkItem(std::string_view record) const;

  std::string encodeAgent(const Agent& agent) const;
  std::optional<Agent> decodeAgent(std::string_view record) const;

 private:
  MessageCodec codec_;
};

} // namespace switchboard::store
