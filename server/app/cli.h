#pragma once

// The `switchboard` command line: sub-commands, their options and their exit statuses.

#include <iosfwd>
#include <span>
#include <string_view>

namespace switchboard {

/// Exit statuses of the command line.
enum ExitStatus : int {
  kExitOk = 0,      ///< the command did what was asked; every file was valid
  kExitInvalid = 1, ///< the command ran, and found invalid input (a file that is not a message)
  kExitUsage = 2,   ///< the command line itself is wrong
};

/// Runs the command line `arguments` (without the program name), writing results to `out` and
/// diagnostics to `err`. Returns the exit status. Never throws.
int runCli(std::span<const std::string_view> arguments, std::ostream& out, std::ostream& err);

} // namespace switchboard
