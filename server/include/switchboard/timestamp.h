#pragma once

#include "switchboard/message.h"

#include <optional>
#include <string>
#include <string_view>

namespace switchboard {

/// Reads an XML Schema dateTime that carries a zone ("2026-11-21T13:45:00Z",
/// "2026-11-21T14:45:00.250+01:00"). Digits past the millisecond are dropped. Returns nothing for
/// any other text, including a time without a zone.
std::optional<Timestamp> parseTimestamp(std::string_view text);

/// Writes `time` in UTC: "2026-11-21T13:45:00Z", or "2026-11-21T13:45:00.250Z" when it has
/// milliseconds. Years outside 0000-9999 are clamped to that range.
std::string formatTimestamp(Timestamp time);

/// Appends formatTimestamp(time) to `out` without a temporary string.
void appendTimestamp(Timestamp time, std::string& out);

} // namespace switchboard
