#include "odbc_options.h"

namespace switchboard::odbc {
namespace {

SqlTemplate statement(const ConfigElement& element, const std::set<std::string>& allowed) {
  try {
    return SqlTemplate(element.text, allowed);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(element.file, element.textPosition, element.setting(""), e.what());
  }
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

} // namespace

const std::set<std::string>& lookupPlaceholders() {
  static const std::set<std::string> kNames{"address",      "addressKind", "medium",
                                            "contactPoint", "subject",     "workItemId"};
  return kNames;
}

const std::set<std::string>& historyPlaceholders() {
  static const std::set<std::string> kNames{"customerRef", "address", "addressKind", "medium",
                                            "workItemId"};
  return kNames;
}

const std::set<std::string>& activityPlaceholders() {
  static const std::set<std::string> kNames{
      "workItemId", "medium",    "state",       "agentId", "queueId", "customerRef",
      "address",    "subject",   "disposition", "notes",   "created", "accepted",
      "ended",      "reference", "thread",      "source",  "cause"};
  return kNames;
}

OdbcOptions readOdbcOptions(const ConnectorConfig& config) {
  const ConfigElement& e = config.settings;
  OdbcOptions options;
  options.name = config.name;
  Secret connection = e.secret("connection");
  options.connection =
      Secret(replaced(connection.reveal(), "${configDir}", e.file.parent_path().string()),
             connection.origin());
  options.outbox = e.path("outbox");
  options.poolSize = static_cast<std::size_t>(e.integer("poolSize", 1, 64));
  options.lookupTimeout = e.duration("lookupTimeout");
  options.queryTimeout = e.duration("queryTimeout");
  options.connectTimeout = e.duration("connectTimeout");
  options.retryBackoff = e.duration("retryBackoff");
  options.maxBackoff = e.duration("maxBackoff");
  options.rosterInterval = e.duration("rosterInterval");
  if (options.retryBackoff.count() <= 0) {
    e.fail("retryBackoff", "must be more than 0");
  }
  if (options.maxBackoff < options.retryBackoff) {
    e.fail("maxBackoff", "must not be less than retryBackoff");
  }
  for (const ConfigElement* lookup : e.childrenNamed("lookup")) {
    options.lookups.push_back(
        {lookup->string("addressKind"), statement(*lookup, lookupPlaceholders())});
  }
  for (const ConfigElement* history : e.childrenNamed("history")) {
    options.history = statement(*history, historyPlaceholders());
  }
  for (const ConfigElement* activity : e.childrenNamed("activity")) {
    options.activity = statement(*activity, activityPlaceholders());
  }
  for (const ConfigElement* agents : e.childrenNamed("agents")) {
    options.agents = statement(*agents, {});
  }
  for (const ConfigElement* skills : e.childrenNamed("skills")) {
    if (options.agents.empty()) {
      skills->fail("", "a skills statement needs an agents statement beside it");
    }
    options.skills = statement(*skills, {});
  }
  return options;
}

} // namespace switchboard::odbc
