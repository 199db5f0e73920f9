#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

namespace switchboard {

/// `switchboard serve --config FILE`: loads the configuration, opens the store, recovers, starts
/// the REST API and the drivers, and runs until SIGTERM or SIGINT, then stops in order (drivers,
/// API, routing, store) so that nothing accepted is lost. Returns the exit status: 0 after a
/// clean stop, 1 when it cannot start (the reason on `err`), 2 for a wrong command line.
int serveCommand(std::span<const std::string_view> arguments, std::ostream& out, std::ostream& err);

} // namespace switchboard
