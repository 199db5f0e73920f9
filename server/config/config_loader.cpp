#include "config_document.h"
#include "switchboard/config.h"
#include "switchboard/routing/expression.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

namespace switchboard {
namespace {

using routing::AttributeSpec;
using routing::EscalationKind;
using routing::EscalationStep;
using routing::OrderKey;
using routing::QueueSpec;

constexpr std::size_t kMinApiKeyLength = 16;
constexpr std::size_t kMinTokenSecretLength = 32;
constexpr std::size_t kMinWebhookSecretLength = 16;
constexpr std::int64_t kMaxThreads = 1024;
constexpr std::int64_t kMaxPriority = 1000;

// Names the expression language resolves to built-in fields: an attribute of that name could
// never be read by a target or a rule.
constexpr std::string_view kAgentFields[] = {"id",          "name",   "site",
                                             "seniority",   "state",  "contactsToday",
                                             "idleSeconds", "skills", "capacity"};
constexpr std::string_view kItemFields[] = {"id",       "medium",      "priority",
                                            "customer", "waitSeconds", "subject",
                                            "body",     "from",        "contactPoint"};

constexpr std::pair<std::string_view, OrderKey> kOrderKeys[] = {
    {"longestIdle", OrderKey::LongestIdle},       {"highestSkill", OrderKey::HighestSkill},
    {"seniority", OrderKey::Seniority},           {"previousAgent", OrderKey::PreviousAgent},
    {"fewestContacts", OrderKey::FewestContacts}, {"roundRobin", OrderKey::RoundRobin},
    {"weightedRandom", OrderKey::WeightedRandom}};

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::strchr(" \t\r\n", text[i]) != nullptr) {
      ++i;
    }
    std::size_t start = i;
    while (i < text.size() && std::strchr(" \t\r\n", text[i]) == nullptr) {
      ++i;
    }
    if (i > start) {
      out.emplace_back(text.substr(start, i - start));
    }
  }
  return out;
}

std::string inQuotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

template <typename T>
T pick(const ConfigElement& element, std::string_view attribute,
       std::initializer_list<std::pair<std::string_view, T>> choices) {
  const std::string& value = element.string(attribute);
  std::string known;
  for (const auto& [name, choice] : choices) {
    if (name == value) {
      return choice;
    }
    known += (known.empty() ? "" : ", ") + std::string(name);
  }
  element.fail(attribute, inQuotes(value) + " is not one of " + known);
}

// Ids of one kind (queues, agents ...), each with where it was first defined.
class Ids {
 public:
  explicit Ids(std::string kind) : kind_(std::move(kind)) {}

  /// Records the id in `attribute` of `element`; throws when it was defined before.
  const std::string& add(const ConfigElement& element, std::string_view attribute) {
    const std::string& id = element.string(attribute);
    auto [at, added] = seen_.emplace(id, element.position);
    if (!added) {
      element.fail(attribute, kind_ + " " + inQuotes(id) + " is already defined on line " +
                                  std::to_string(at->second.line));
    }
    return id;
  }

  bool contains(const std::string& id) const { return seen_.contains(id); }

 private:
  std::string kind_;
  std::map<std::string, SourcePosition> seen_;
};

// A reference to a queue, checked once every queue is known.
struct QueueReference {
  const ConfigElement* element;
  std::string attribute;
  std::string queue;
  std::string from; ///< the queue that moves items, for the cycle check; empty for rules
};

class Loader {
 public:
  Loader(const SourceText& source, Config& config) : source_(source), config_(config) {}

  void load(const ConfigElement& root) {
    config_.version = root.string("version");
    for (const ConfigElement& section : root.children) {
      if (section.name == "server") {
        loadServer(section);
      } else if (section.name == "store") {
        loadStore(section);
      } else if (section.name == "security") {
        loadSecurity(section);
      } else if (section.name == "logging") {
        loadLogging(section);
      } else if (section.name == "push") {
        loadPush(section);
      } else if (section.name == "drivers") {
        loadDrivers(section);
      } else if (section.name == "routing") {
        loadRouting(section);
      } else if (section.name == "agents") {
        loadAgents(section);
      } else if (section.name == "queues") {
        loadQueues(section);
      } else if (section.name == "rules") {
        loadRules(section);
      } else if (section.name == "webhooks") {
        loadWebhooks(section);
      } else if (section.name == "connectors") {
        loadConnectors(section);
      }
    }
    checkReferences();
    orderQueues();
  }

 private:
  void loadServer(const ConfigElement& server) {
    config_.server.id = server.string("id");
    std::map<std::pair<std::string, std::int64_t>, std::size_t> endpoints;
    for (const ConfigElement* element : server.childrenNamed("listener")) {
      ListenerConfig& listener = config_.server.listeners.emplace_back();
      listener.address = element->string("address");
      listener.port = static_cast<std::uint16_t>(element->integer("port", 0, 65535));
      listener.threads = static_cast<std::size_t>(element->integer("threads", 1, kMaxThreads));
      auto [at, added] = endpoints.emplace(std::make_pair(listener.address, listener.port),
                                           element->position.line);
      if (!added && listener.port != 0) {
        element->fail("port", listener.address + ":" + std::to_string(listener.port) +
                                  " is already a listener on line " + std::to_string(at->second));
      }
      for (const ConfigElement* tls : element->childrenNamed("tls")) {
        listener.tls = TlsConfig{readableFile(*tls, "certificate"), readableFile(*tls, "key")};
      }
    }
    loadStaticFiles(server);
  }

  void loadStaticFiles(const ConfigElement& server) {
    std::map<std::string, std::size_t> prefixes;
    for (const ConfigElement* element : server.childrenNamed("staticFiles")) {
      StaticFilesConfig& files = config_.server.staticFiles.emplace_back();
      files.urlPrefix = element->string("urlPrefix");
      auto first = files.urlPrefix.substr(1, files.urlPrefix.find('/', 1) - 1);
      if (first == "v1" || first == "healthz" || first == "readyz" || first == "metrics") {
        element->fail("urlPrefix", "'" + files.urlPrefix + "' is the REST API's own path");
      }
      auto [at, added] = prefixes.emplace(files.urlPrefix, element->position.line);
      if (!added) {
        element->fail("urlPrefix", "'" + files.urlPrefix + "' is already served on line " +
                                       std::to_string(at->second));
      }
      files.folder = element->path("folder");
      std::error_code error;
      if (!std::filesystem::is_directory(files.folder, error)) {
        element->fail("folder", files.folder.string() + " is not a folder");
      }
      files.maxAge = std::chrono::duration_cast<std::chrono::seconds>(element->duration("maxAge"));
    }
  }

  static std::filesystem::path readableFile(const ConfigElement& element,
                                            std::string_view attribute) {
    std::filesystem::path file = element.path(attribute);
    std::ifstream stream(file, std::ios::binary);
    if (!stream) {
      element.fail(attribute, "cannot read " + file.string() + ": " + std::strerror(errno));
    }
    return file;
  }

  void loadStore(const ConfigElement& store) {
    StoreOptions& options = config_.store;
    options.maxBatch = static_cast<std::size_t>(store.integer("maxBatch", 1, 1000000));
    std::optional<std::chrono::microseconds> delay = parseDuration(store.string("maxDelay"));
    if (!delay) {
      store.fail("maxDelay", inQuotes(store.string("maxDelay")) + " is not a duration");
    }
    if (*delay > std::chrono::seconds(1)) {
      store.fail("maxDelay", "must be at most 1s: every durable write waits this long at worst");
    }
    options.maxDelay = *delay;
    for (const ConfigElement& kind : store.children) {
      if (kind.name == "sqlite") {
        options.kind = StoreOptions::Kind::Sqlite;
        options.location = kind.path("path").string();
      } else if (kind.name == "postgresql") {
        options.kind = StoreOptions::Kind::Postgresql;
        options.location = kind.secret("connection").reveal();
      }
    }
  }

  void loadSecurity(const ConfigElement& security) {
    Ids names("API key");
    std::map<std::string, std::string> secrets; // secret -> key name, to refuse a shared secret
    for (const ConfigElement* element : security.childrenNamed("apiKey")) {
      ApiKeyConfig key;
      key.name = names.add(*element, "name");
      key.secret = element->secret("secret");
      const ConfigAttribute* given = givenSecret(*element);
      if (key.secret.reveal().size() < kMinApiKeyLength) {
        element->fail(given->name, "the secret (" + key.secret.origin() + ") is shorter than " +
                                       std::to_string(kMinApiKeyLength) + " characters");
      }
      auto [other, added] = secrets.emplace(key.secret.reveal(), key.name);
      if (!added) {
        element->fail(given->name, "API key " + inQuotes(key.name) + " has the same secret as " +
                                       inQuotes(other->second) +
                                       ": each key needs its own, or the logs cannot tell who "
                                       "called");
      }
      config_.security.apiKeys.push_back(std::move(key));
    }
    for (const ConfigElement* tokens : security.childrenNamed("agentTokens")) {
      Secret secret = tokens->secret("secret");
      if (secret.reveal().size() < kMinTokenSecretLength) {
        tokens->fail(givenSecret(*tokens)->name,
                     "the secret (" + secret.origin() + ") is shorter than " +
                         std::to_string(kMinTokenSecretLength) + " characters");
      }
      config_.security.agentTokenSecret = std::move(secret);
      std::chrono::milliseconds lifetime = tokens->duration("lifetime");
      if (lifetime < std::chrono::seconds(1) || lifetime > std::chrono::days(365)) {
        tokens->fail("lifetime", "must be between 1s and 365d");
      }
      config_.security.agentTokenLifetime =
          std::chrono::duration_cast<std::chrono::seconds>(lifetime);
    }
  }

  static const ConfigAttribute* givenSecret(const ConfigElement& element) {
    for (const ConfigAttribute& attribute : element.attributes) {
      if (attribute.specified && attribute.name.starts_with("secret")) {
        return &attribute;
      }
    }
    return nullptr;
  }

  void loadWebhooks(const ConfigElement& webhooks) {
    Ids names("web hook");
    for (const ConfigElement* element : webhooks.childrenNamed("webhook")) {
      WebhookConfig hook;
      hook.name = names.add(*element, "name");
      hook.url = element->string("url");
      hook.xml = element->string("format") == "xml";
      hook.secret = element->secret("secret");
      if (hook.secret.reveal().size() < kMinWebhookSecretLength) {
        element->fail(givenSecret(*element)->name,
                      "the secret (" + hook.secret.origin() + ") is shorter than " +
                          std::to_string(kMinWebhookSecretLength) + " characters");
      }
      if (auto events = element->optionalString("events")) {
        hook.events = words(*events);
      }
      hook.timeout = element->duration("timeout");
      hook.retryHorizon = element->duration("retryHorizon");
      hook.maxBackoff = element->duration("maxBackoff");
      if (hook.timeout.count() <= 0 || hook.maxBackoff.count() <= 0) {
        element->fail(hook.timeout.count() <= 0 ? "timeout" : "maxBackoff", "must be more than 0");
      }
      hook.startAtEnd = element->string("start") == "end";
      config_.webhooks.push_back(std::move(hook));
    }
  }

  void loadLogging(const ConfigElement& logging) {
    config_.logging.level = pick<LogLevel>(logging, "level",
                                           {{"debug", LogLevel::Debug},
                                            {"info", LogLevel::Info},
                                            {"warning", LogLevel::Warn},
                                            {"error", LogLevel::Error}});
    config_.logging.format =
        pick<LogFormat>(logging, "format", {{"json", LogFormat::Json}, {"text", LogFormat::Text}});
  }

  void loadPush(const ConfigElement& push) {
    PushConfig& out = config_.push;
    auto between = [&](const char* attribute, std::chrono::milliseconds min,
                       std::chrono::milliseconds max, const char* range) {
      std::chrono::milliseconds value = push.duration(attribute);
      if (value < min || value > max) {
        push.fail(attribute, std::string("must be between ") + range);
      }
      return value;
    };
    out.heartbeat =
        between("heartbeat", std::chrono::seconds(1), std::chrono::hours(1), "1s and 1h");
    out.grace = between("grace", std::chrono::milliseconds(0), std::chrono::hours(24), "0 and 24h");
    out.sendTimeout = between("sendTimeout", std::chrono::milliseconds(100),
                              std::chrono::minutes(10), "100ms and 10m");
    out.historyAge =
        between("historyAge", std::chrono::milliseconds(0), std::chrono::hours(24), "0 and 24h");
    out.queueLimit = static_cast<std::size_t>(push.integer("queueLimit", 1, 1000000));
    out.history = static_cast<std::size_t>(push.integer("history", 0, 100000));
    out.readers = static_cast<std::size_t>(push.integer("readers", 1, 64));
    out.senders = static_cast<std::size_t>(push.integer("senders", 1, 64));
  }

  void loadDrivers(const ConfigElement& drivers) {
    Ids names("driver");
    for (const ConfigElement& element : drivers.children) {
      DriverConfig& driver = config_.drivers.emplace_back();
      driver.type = element.name;
      driver.name = names.add(element, "name");
      driver.enabled = element.boolean("enabled");
      driver.settings = element;
    }
  }

  void loadConnectors(const ConfigElement& connectors) {
    Ids names("connector");
    for (const ConfigElement& element : connectors.children) {
      ConnectorConfig& connector = config_.connectors.emplace_back();
      connector.type = element.name;
      connector.name = names.add(element, "name");
      connector.enabled = element.boolean("enabled");
      connector.settings = element;
    }
  }

  void loadRouting(const ConfigElement& routing) {
    routing::EngineOptions& engine = config_.engine;
    engine.missedOffersLimit = static_cast<int>(routing.integer("missedOffersLimit", 0, 1000));
    engine.trace = pick<routing::TraceLevel>(routing, "trace",
                                             {{"none", routing::TraceLevel::None},
                                              {"summary", routing::TraceLevel::Summary},
                                              {"full", routing::TraceLevel::Full}});
    const std::string& seed = routing.string("seed");
    auto [end, error] = std::from_chars(seed.data(), seed.data() + seed.size(), engine.seed);
    if (error != std::errc() || end != seed.data() + seed.size()) {
      routing.fail("seed", inQuotes(seed) + " is not a number from 0 to 18446744073709551615");
    }
    if (auto queue = routing.optionalString("defaultQueue")) {
      engine.defaultQueue = *queue;
      references_.push_back({&routing, "defaultQueue", *queue, ""});
    }
  }

  std::vector<routing::CapacityMix> loadMixes(const ConfigElement& owner) {
    std::vector<routing::CapacityMix> mixes;
    for (const ConfigElement* element : owner.childrenNamed("mix")) {
      routing::CapacityMix& mix = mixes.emplace_back();
      for (const ConfigElement* limit : element->childrenNamed("limit")) {
        const std::string& medium = limit->string("medium");
        for (const routing::MediumLimit& before : mix.limits) {
          if (before.medium == medium) {
            limit->fail("medium", inQuotes(medium) + " is already limited in this mix");
          }
        }
        if (!media_.contains(medium) && media_.size() == routing::kMaxMedia) {
          limit->fail("medium", "the routing engine handles at most " +
                                    std::to_string(routing::kMaxMedia) +
                                    " different media; this is one more");
        }
        media_.insert(medium);
        mix.limits.push_back({medium, static_cast<int>(limit->integer("max", 1, 1000000))});
      }
    }
    return mixes;
  }

  std::vector<AttributeSpec> loadAttributes(const ConfigElement& owner, std::string_view element,
                                            std::span<const std::string_view> reserved,
                                            std::string_view root) {
    std::vector<AttributeSpec> specs;
    std::set<std::string> names;
    for (const ConfigElement* attribute : owner.childrenNamed(element)) {
      const std::string& name = attribute->string("name");
      if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
        attribute->fail("name", inQuotes(std::string(root) + "." + name) +
                                    " is a built-in field; choose another attribute name");
      }
      if (!names.insert(name).second) {
        attribute->fail("name", inQuotes(name) + " is already set here");
      }
      std::optional<std::string> value = attribute->optionalString("value");
      std::optional<std::string> values = attribute->optionalString("values");
      if (value && values) {
        attribute->fail("values", "give either value (one) or values (a list), not both");
      }
      if (!value && !values) {
        attribute->fail("value", "is required: give value=\"one\" or values=\"a list\"");
      }
      specs.push_back(value ? AttributeSpec::scalar(name, *value)
                            : AttributeSpec::list(name, words(*values)));
    }
    return specs;
  }

  void loadAgents(const ConfigElement& agents) {
    Ids profileIds("capacity profile");
    std::map<std::string, std::vector<routing::CapacityMix>> profiles;
    for (const ConfigElement* profile : agents.childrenNamed("capacityProfile")) {
      profiles[profileIds.add(*profile, "id")] = loadMixes(*profile);
    }
    Ids agentIds("agent");
    for (const ConfigElement* element : agents.childrenNamed("agent")) {
      routing::AgentSpec& agent = config_.agents.emplace_back();
      agent.id = agentIds.add(*element, "id");
      agent.name = element->optionalString("name").value_or("");
      agent.site = element->optionalString("site").value_or("");
      agent.seniority = static_cast<int>(element->integer("seniority", 0, 1000000));
      std::set<std::string> skills;
      for (const ConfigElement* skill : element->childrenNamed("skill")) {
        const std::string& name = skill->string("name");
        if (!skills.insert(name).second) {
          skill->fail("name",
                      "agent " + inQuotes(agent.id) + " already has skill " + inQuotes(name));
        }
        agent.skills.push_back({name, static_cast<int>(skill->integer("level", 0, 10))});
      }
      agent.capacity = loadMixes(*element);
      if (auto profile = element->optionalString("capacity")) {
        if (!agent.capacity.empty()) {
          element->fail("capacity", "give either capacity=\"PROFILE\" or <mix> elements, not both");
        }
        auto found = profiles.find(*profile);
        if (found == profiles.end()) {
          element->fail("capacity", "no capacity profile " + inQuotes(*profile) +
                                        " (define it with <capacityProfile id=\"" + *profile +
                                        "\"> before the agents)");
        }
        agent.capacity = found->second;
      }
      if (agent.capacity.empty()) {
        element->fail("capacity", "agent " + inQuotes(agent.id) +
                                      " can take no work: give capacity=\"PROFILE\" or <mix> "
                                      "elements");
      }
      agent.attributes = loadAttributes(*element, "attribute", kAgentFields, "agent");
    }
  }

  // Checks an expression held in `element`'s text; points at the offending character.
  void checkExpression(const ConfigElement& element, routing::ExpressionScope scope) {
    if (auto problem = routing::checkExpression(element.text, scope)) {
      std::size_t index = problem->column == 0 ? 0 : problem->column - 1;
      throw ConfigError(element.file, positionInText(source_, element, index), element.name,
                        "expression column " + std::to_string(problem->column) + ": " +
                            problem->reason);
    }
  }

  void loadQueues(const ConfigElement& queues) {
    for (const ConfigElement* element : queues.childrenNamed("queue")) {
      QueueSpec& queue = config_.queues.emplace_back();
      queue.id = queueIds_.add(*element, "id");
      loadOrdering(*element, queue);
      queue.priority = static_cast<int>(element->integer("priority", -kMaxPriority, kMaxPriority));
      queue.skill = element->optionalString("skill").value_or("");
      queue.skillAttribute = element->string("skillAttribute");
      queue.weightAttribute = element->string("weightAttribute");
      queue.offerTimeout = element->duration("offerTimeout");
      if (queue.offerTimeout < std::chrono::seconds(1)) {
        element->fail("offerTimeout", "must be at least 1s: agents need time to accept");
      }
      queue.wrapUp = element->duration("wrapUp");
      queue.stickyMaxWait = element->duration("stickyMaxWait");
      if (auto sites = element->optionalString("sites")) {
        queue.sites = words(*sites);
      }
      loadSitePreference(*element, queue);
      loadMaxWait(*element, queue);
      queue.ageingPerMinute = decimal(*element, "ageingPerMinute");
      for (const ConfigElement* target : element->childrenNamed("target")) {
        checkExpression(*target, routing::ExpressionScope::Target);
        queue.target = target->text;
      }
      for (const ConfigElement* escalation : element->childrenNamed("escalation")) {
        loadEscalation(*escalation, queue);
      }
    }
  }

  static void loadOrdering(const ConfigElement& element, QueueSpec& queue) {
    queue.ordering.clear();
    for (const std::string& word : words(element.string("ordering"))) {
      auto key = std::find_if(std::begin(kOrderKeys), std::end(kOrderKeys),
                              [&](const auto& entry) { return entry.first == word; });
      if (key == std::end(kOrderKeys)) {
        element.fail("ordering", inQuotes(word) + " is not an ordering key");
      }
      if (std::find(queue.ordering.begin(), queue.ordering.end(), key->second) !=
          queue.ordering.end()) {
        element.fail("ordering", inQuotes(word) + " is listed twice");
      }
      if (key->second == OrderKey::PreviousAgent && !queue.ordering.empty()) {
        element.fail("ordering", "previousAgent must be the first key");
      }
      queue.ordering.push_back(key->second);
    }
    if (queue.ordering.empty() || queue.ordering.size() > routing::kMaxOrderKeys) {
      element.fail("ordering",
                   "give 1 to " + std::to_string(routing::kMaxOrderKeys) + " ordering keys");
    }
  }

  static void loadSitePreference(const ConfigElement& element, QueueSpec& queue) {
    std::optional<std::string> preferred = element.optionalString("preferredSite");
    const ConfigAttribute* overflow = element.find("overflowAfter");
    if (preferred) {
      queue.preferredSite = *preferred;
      if (overflow == nullptr) {
        element.fail("preferredSite", "needs overflowAfter: how long items wait for " +
                                          inQuotes(*preferred) + " before other sites help");
      }
      if (!queue.sites.empty() &&
          std::find(queue.sites.begin(), queue.sites.end(), *preferred) == queue.sites.end()) {
        element.fail("preferredSite", inQuotes(*preferred) + " is not one of the queue's sites");
      }
    }
    if (overflow != nullptr) {
      if (!preferred) {
        element.fail("overflowAfter", "has no effect without preferredSite");
      }
      queue.overflowAfter = element.duration("overflowAfter");
      if (queue.overflowAfter.count() == 0) {
        element.fail("overflowAfter", "must be more than 0, or the preference ends at once");
      }
    }
  }

  void loadMaxWait(const ConfigElement& element, QueueSpec& queue) {
    queue.maxWait = element.duration("maxWait");
    queue.maxWaitOutcome =
        pick<routing::MaxWaitOutcome>(element, "maxWaitOutcome",
                                      {{"abandon", routing::MaxWaitOutcome::Abandon},
                                       {"fail", routing::MaxWaitOutcome::Fail},
                                       {"moveQueue", routing::MaxWaitOutcome::MoveQueue}});
    const ConfigAttribute* outcome = element.find("maxWaitOutcome");
    if (outcome != nullptr && outcome->specified && queue.maxWait.count() == 0) {
      element.fail("maxWaitOutcome", "has no effect without maxWait");
    }
    std::optional<std::string> target = element.optionalString("maxWaitQueue");
    if (queue.maxWaitOutcome == routing::MaxWaitOutcome::MoveQueue) {
      if (!target) {
        element.fail("maxWaitOutcome", "moveQueue needs maxWaitQueue: the queue to move to");
      }
      queue.maxWaitQueue = *target;
      references_.push_back({&element, "maxWaitQueue", *target, queue.id});
    } else if (target) {
      element.fail("maxWaitQueue", "is used only with maxWaitOutcome=\"moveQueue\"");
    }
  }

  static double decimal(const ConfigElement& element, std::string_view attribute) {
    const std::string& text = element.string(attribute);
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || value < 0 || value > 100) {
      element.fail(attribute, inQuotes(text) + " is not a number from 0 to 100");
    }
    return value;
  }

  void loadEscalation(const ConfigElement& escalation, QueueSpec& queue) {
    std::chrono::milliseconds previous{0};
    for (const ConfigElement& element : escalation.children) {
      EscalationStep& step = queue.escalation.emplace_back();
      step.after = element.duration("after");
      if (step.after < previous) {
        element.fail("after", "steps are listed in the order they apply; this one comes before "
                              "the step above it");
      }
      previous = step.after;
      if (element.name == "widen") {
        step.kind = EscalationKind::Widen;
        if (element.text.empty()) {
          element.fail("", "needs an expression: the agents who qualify as well");
        }
        checkExpression(element, routing::ExpressionScope::Target);
        step.expression = element.text;
      } else if (element.name == "lowerLevel") {
        step.kind = EscalationKind::LowerLevel;
        step.levels = static_cast<int>(element.integer("levels", 1, 10));
      } else if (element.name == "addSite") {
        step.kind = EscalationKind::AddSite;
        step.site = element.string("site");
      } else if (element.name == "moveQueue") {
        step.kind = EscalationKind::MoveQueue;
        step.queue = element.string("queue");
        if (step.after.count() == 0) {
          element.fail("after", "a move needs a wait greater than 0 (rules choose the first "
                                "queue)");
        }
        references_.push_back({&element, "queue", step.queue, queue.id});
      }
    }
  }

  void loadRules(const ConfigElement& rules) {
    Ids names("rule");
    for (const ConfigElement* element : rules.childrenNamed("rule")) {
      routing::RuleSpec& rule = config_.rules.emplace_back();
      rule.name = names.add(*element, "name");
      for (const ConfigElement* when : element->childrenNamed("when")) {
        checkExpression(*when, routing::ExpressionScope::Rule);
        rule.when = when->text;
      }
      rule.set = loadAttributes(*element, "set", kItemFields, "item");
      if (auto queue = element->optionalString("queue")) {
        rule.queue = *queue;
        references_.push_back({element, "queue", *queue, ""});
      }
      if (rule.set.empty() && rule.queue.empty()) {
        element->fail("queue", "rule " + inQuotes(rule.name) +
                                   " does nothing: give it a queue or <set> elements");
      }
    }
  }

  void checkReferences() {
    for (const QueueReference& reference : references_) {
      if (!queueIds_.contains(reference.queue)) {
        reference.element->fail(reference.attribute, "no queue " + inQuotes(reference.queue));
      }
      if (reference.queue == reference.from) {
        reference.element->fail(reference.attribute, "queue " + inQuotes(reference.from) +
                                                         " cannot move items to itself");
      }
    }
  }

  // The engine resolves a queue's moves when the queue is added, so every queue must come after
  // the queues it moves items to. Moves in a circle would pass items round for ever.
  void orderQueues() {
    std::map<std::string, std::vector<const QueueReference*>> moves;
    for (const QueueReference& reference : references_) {
      if (!reference.from.empty()) {
        moves[reference.from].push_back(&reference);
      }
    }
    std::map<std::string, int> state; // 1: being visited, 2: done
    std::vector<std::string> order;
    std::vector<std::string> path;
    auto visit = [&](auto& self, const std::string& id) -> void {
      int& mark = state[id];
      if (mark == 2) {
        return;
      }
      mark = 1;
      path.push_back(id);
      for (const QueueReference* move : moves[id]) {
        if (state[move->queue] == 1) {
          std::string circle;
          auto start = std::find(path.begin(), path.end(), move->queue);
          for (auto it = start; it != path.end(); ++it) {
            circle += *it + " -> ";
          }
          move->element->fail(move->attribute,
                              "queues move items in a circle: " + circle + move->queue);
        }
        self(self, move->queue);
      }
      path.pop_back();
      state[id] = 2;
      order.push_back(id);
    };
    for (const QueueSpec& queue : config_.queues) {
      visit(visit, queue.id);
    }
    std::vector<QueueSpec> sorted;
    sorted.reserve(config_.queues.size());
    for (const std::string& id : order) {
      auto found = std::find_if(config_.queues.begin(), config_.queues.end(),
                                [&](const QueueSpec& queue) { return queue.id == id; });
      sorted.push_back(std::move(*found));
    }
    config_.queues = std::move(sorted);
  }

  const SourceText& source_;
  Config& config_;
  Ids queueIds_{"queue"};
  std::vector<QueueReference> references_;
  std::set<std::string> media_;
};

Config load(std::string_view document, const std::filesystem::path& file) {
  SourceText source(document);
  ConfigElement root = parseConfigDocument(document, file);
  Config config;
  std::error_code ignored;
  config.file = std::filesystem::absolute(file, ignored).lexically_normal();
  Loader(source, config).load(root);
  return config;
}

} // namespace

Config loadConfig(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    throw ConfigError(file, {}, "", std::string("cannot read: ") + std::strerror(errno));
  }
  std::string document;
  document.resize(kMaxConfigBytes + 1);
  stream.read(document.data(), static_cast<std::streamsize>(document.size()));
  document.resize(static_cast<std::size_t>(stream.gcount()));
  if (stream.bad()) {
    throw ConfigError(file, {}, "", std::string("cannot read: ") + std::strerror(errno));
  }
  return load(document, file);
}

Config loadConfigFromString(std::string_view document, const std::filesystem::path& file) {
  return load(document, file);
}

} // namespace switchboard
