#include "cli.h"

#include "serve_command.h"

#include "adapters/external/conformance_kit.h"

#include "switchboard/config.h"
#include "switchboard/message_codec.h"

#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

namespace switchboard {
namespace {

constexpr std::string_view kUsage = R"(Usage: switchboard <command> [options]

Commands:
  serve --config FILE        Run the communication server with the configuration FILE until
                             SIGTERM or SIGINT (see docs/configuration.md).
  config check FILE...       Check configuration files: prints "FILE: ok" and a summary, or
                             "FILE:LINE:COLUMN: setting: reason".
  message validate FILE...   Check that each FILE is a valid Switchboard message
                             (schemas/message/v1/message.xsd). Prints "FILE: ok" or
                             "FILE:LINE:COLUMN: reason" for each; "-" reads standard input.
  message schema             Print the message schema this program validates against.
  driver check [options] [-- COMMAND...]
                             Run the interactions of docs/message.md against an external
                             driver and report which pass ("driver check --help" for more).
  help, --help, -h           Print this help.
  version, --version         Print the version.

Options of "message validate":
  --max-bytes N              Refuse documents larger than N bytes (default 4194304).
  --max-depth N              Refuse elements nested deeper than N (default 32).

Exit status: 0 when every file is valid, 1 when any is not, 2 for a wrong command line.
)";

constexpr std::string_view kVersion = "switchboard 0.1.0 (message format 1.0)";

bool readFile(std::string_view path, std::string& content, std::string& problem) {
  if (path == "-") {
    content.assign(std::istreambuf_iterator<char>(std::cin), {});
    return true;
  }
  std::ifstream file{std::string(path), std::ios::binary};
  if (!file) {
    problem = std::strerror(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  content = std::move(buffer).str();
  return true;
}

bool parseSize(std::string_view text, std::size_t& value) {
  if (text.empty() || text.size() > 12) {
    return false;
  }
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return value > 0;
}

int validate(std::span<const std::string_view> arguments, std::ostream& out, std::ostream& err) {
  CodecLimits limits;
  std::vector<std::string_view> files;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    std::string_view argument = arguments[i];
    if (argument == "--max-bytes" || argument == "--max-depth") {
      std::size_t& limit = argument == "--max-bytes" ? limits.maxBytes : limits.maxDepth;
      if (i + 1 == arguments.size() || !parseSize(arguments[i + 1], limit)) {
        err << "switchboard: " << argument << " needs a positive number\n";
        return kExitUsage;
      }
      ++i;
    } else if (argument.size() > 1 && argument.front() == '-') {
      err << "switchboard: unknown option " << argument << "\n" << kUsage;
      return kExitUsage;
    } else {
      files.push_back(argument);
    }
  }
  if (files.empty()) {
    err << "switchboard: message validate needs at least one FILE\n" << kUsage;
    return kExitUsage;
  }
  MessageCodec codec(limits);
  int status = kExitOk;
  std::string content;
  std::string problem;
  for (std::string_view file : files) {
    if (!readFile(file, content, problem)) {
      out << file << ": cannot read: " << problem << '\n';
      status = kExitInvalid;
      continue;
    }
    auto decoded = codec.decode(content);
    if (decoded) {
      out << file << ": ok\n";
    } else {
      const DecodeError& error = decoded.error();
      out << file << ':';
      if (error.line != 0) {
        out << error.line << ':' << error.column << ':';
      }
      out << ' ' << error.reason << '\n';
      status = kExitInvalid;
    }
  }
  return status;
}

} // namespace

int runCli(std::span<const std::string_view> arguments, std::ostream& out, std::ostream& err) {
  try {
    if (arguments.empty()) {
      err << kUsage;
      return kExitUsage;
    }
    std::string_view command = arguments[0];
    if (command == "help" || command == "--help" || command == "-h") {
      out << kUsage;
      return kExitOk;
    }
    if (command == "version" || command == "--version") {
      out << kVersion << '\n';
      return kExitOk;
    }
    if (command == "serve") {
      return serveCommand(arguments.subspan(1), out, err);
    }
    if (command == "config" && arguments.size() >= 2 && arguments[1] == "check") {
      return checkConfigCommand(arguments.subspan(2), out, err);
    }
    if (command == "driver" && arguments.size() >= 2 && arguments[1] == "check") {
      return external::driverCheckCommand(arguments.subspan(2), out, err);
    }
    if (command == "message" && arguments.size() >= 2) {
      if (arguments[1] == "validate") {
        return validate(arguments.subspan(2), out, err);
      }
      if (arguments[1] == "schema" && arguments.size() == 2) {
        out << MessageCodec::schema();
        return kExitOk;
      }
    }
    err << "switchboard: unknown command";
    for (std::string_view argument : arguments.first(std::min<std::size_t>(2, arguments.size()))) {
      err << ' ' << argument;
    }
    err << "\n" << kUsage;
    return kExitUsage;
  } catch (const std::exception& e) {
    err << "switchboard: " << e.what() << '\n';
    return kExitInvalid;
  }
}

} // namespace switchboard
