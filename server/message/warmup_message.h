#pragma once

#include "switchboard/message.h"

namespace switchboard {

/// A valid message that carries one of every part a work item, an agent and a customer can hold:
/// addresses of every kind the schema names and an open one, a contact point, body, transcript
/// lines of each author, attachments, attributes and history. MessageCodec decodes it once when
/// it is built, so that the first decode of real traffic meets nothing Xerces has yet to build.
Message warmupMessage();

} // namespace switchboard
