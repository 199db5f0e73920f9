#include "switchboard/config.h"

#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace switchboard {
namespace {

constexpr int kOk = 0;
constexpr int kInvalid = 1;
constexpr int kUsage = 2;

constexpr std::string_view kUsageText = R"(Usage: switchboard config check FILE...

Loads each configuration FILE as "switchboard serve" would (schemas/config/v1/config.xsd and the
checks in docs/configuration.md), reading its secret files and environment variables, and prints
"FILE: ok: N drivers, N agents, N queues, N rules" or "FILE:LINE:COLUMN: SETTING: reason".
"-" reads standard input (relative paths then start at the current folder).

Exit status: 0 when every file is good, 1 when any is not, 2 for a wrong command line.
)";

std::string counted(std::size_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

} // namespace

int checkConfigCommand(std::span<const std::string_view> arguments, std::ostream& out,
                       std::ostream& err) {
  std::vector<std::string_view> files;
  for (std::string_view argument : arguments) {
    if (argument == "--help" || argument == "-h") {
      out << kUsageText;
      return kOk;
    }
    if (argument.size() > 1 && argument.front() == '-') {
      err << "switchboard: unknown option " << argument << "\n" << kUsageText;
      return kUsage;
    }
    files.push_back(argument);
  }
  if (files.empty()) {
    err << "switchboard: config check needs at least one FILE\n" << kUsageText;
    return kUsage;
  }
  int status = kOk;
  for (std::string_view file : files) {
    try {
      Config config;
      if (file == "-") {
        std::string document(std::istreambuf_iterator<char>(std::cin), {});
        config = loadConfigFromString(document, "-");
      } else {
        config = loadConfig(std::filesystem::path(file));
      }
      out << file << ": ok: " << counted(config.drivers.size(), "driver") << ", "
          << counted(config.agents.size(), "agent") << ", "
          << counted(config.queues.size(), "queue") << ", " << counted(config.rules.size(), "rule")
          << '\n';
    } catch (const ConfigError& error) {
      out << error.what() << '\n';
      status = kInvalid;
    } catch (const std::exception& error) {
      out << file << ": " << error.what() << '\n';
      status = kInvalid;
    }
  }
  return status;
}

} // namespace switchboard
