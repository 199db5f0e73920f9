#pragma once

// Durations and sizes as integrators write them in a configuration. The configuration loader
// and every driver read them with these two functions, so that a value the schema accepts is
// read the same way everywhere.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace switchboard {

/// Reads a duration ("0", "500ms", "30s", "2m", "1h", "1d", "1m30s"; units us, ms, s, m, h, d).
/// Nothing when the text is not one or overflows.
std::optional<std::chrono::microseconds> parseDuration(std::string_view text);

/// Reads a byte size ("1048576", "512KiB", "25MiB", "1GiB"; also "512k", "25M", "1G"). Nothing
/// when the text is not one or overflows.
std::optional<std::uint64_t> parseByteSize(std::string_view text);

} // namespace switchboard
