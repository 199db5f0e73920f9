#pragma once

// How a work item or an agent is kept in its table's record column: in the message format
// (schemas/message/v1), written and read by the message codec. The stored form is the data format
// specification itself, so it is readable with any XML tool, and a later schema version reads old
// records the way it reads old messages. Fields that live in their own columns (a work item's id,
// state, queue, agent, priority, created, source key and history) are left out of the record;
// the reader puts the column values back.
//
// An agent's record is a whole message document (the answer to a getAgentState request). A work
// item's record is the `workItem` element of the answer to a getWorkItem request, without the
// envelope around it (the declaration, `message`, `sender`, `addressee`, `response`): the
// envelope is the same for every item, and left out it makes a row about half as large, which is
// half the pages a transaction of new items writes to the log. The reader puts the envelope back
// before it decodes; records written whole by earlier versions are read as they are.

#include "switchboard/message.h"
#include "switchboard/message_codec.h"

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::store {

class RecordCodec {
 public:
  RecordCodec();

  /// The record of `item`, without the fields held in columns. Safe from many threads at once.
  std::string encodeWorkItem(const WorkItem& item) const;
  /// The item in `record`, or nothing when the record does not decode (the caller rebuilds what
  /// it can from the columns).
  std::optional<WorkItem> decodeWorkItem(std::string_view record) const;

  std::string encodeAgent(const Agent& agent) const;
  std::optional<Agent> decodeAgent(std::string_view record) const;

 private:
  MessageCodec codec_;
  // A getWorkItem answer's text before and after its workItem element.
  std::string itemPrefix_;
  std::string itemSuffix_;
};

} // namespace switchboard::store
