#pragma once

#include "switchboard/message.h"

#include <string>

namespace switchboard {

/// Writes `message` as a UTF-8 XML document in the message namespace (see MessageCodec::encode).
std::string encodeMessage(const Message& message);

} // namespace switchboard
