#pragma once

// The conformance kit for external drivers: `switchboard driver check`. It plays the server's
// side of docs/message.md on a loopback port (the same endpoint code as the server:
// ExternalEndpoint), lets the driver under test connect to it, runs the interactions one by one,
// and reports per interaction PASS or FAIL with the reason. docs/external-drivers.md describes
// each check.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::external {

struct KitOptions {
  std::string name = "kit-driver"; ///< the driver name the kit expects
  std::string key;                 ///< the key it accepts (a random one when empty)
  std::string address = "127.0.0.1";
  std::uint16_t port = 0; ///< 0: any free port
  /// How long the kit waits for each step (a registration, an arrival, an answer).
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  /// A shell command that makes one contact arrive at the driver (`sh -c`); without it, the
  /// kit waits for the driver to bring one by itself.
  std::string contactCommand;
  /// The driver to start (program and arguments); without it, the kit waits for one to connect.
  std::vector<std::string> driverCommand;
};

/// One interaction's outcome.
struct KitCheck {
  std::string name;
  bool passed = false;
  std::string detail; ///< what was seen, or why it failed
};

/// Runs every check against the driver; progress goes to `log`. Throws std::runtime_error when
/// the kit cannot listen or start the driver.
std::vector<KitCheck> runConformanceKit(const KitOptions& options, std::ostream& log);

/// `switchboard driver check [options] [-- COMMAND...]`: prints one line per check and a
/// summary to `out`; returns 0 when every check passed, 1 when any failed, 2 for a wrong command
/// line. Never throws.
int driverCheckCommand(std::span<const std::string_view> arguments, std::ostream& out,
                       std::ostream& err);

} // namespace switchboard::external
