// Loading good configurations: the quick start, secrets from files and the environment,
// relative paths, schema defaults, driver sections, and what the routing engine makes of it.

#include "switchboard/config.h"
#include "switchboard/routing/message_conversion.h"
#include "switchboard/routing/routing_engine.h"

#include "tests/support/test_data.h"
#include "tests/unit/config/config_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace switchboard {
namespace {

using routing::OrderKey;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::filesystem::path quickstart() {
  return testing::sourceDir() / "samples/quickstart/switchboard.xml";
}

const routing::QueueSpec& queue(const Config& config, std::string_view id) {
  for (const auto& spec : config.queues) {
    if (spec.id == id) {
      return spec;
    }
  }
  throw std::runtime_error("no queue " + std::string(id));
}

const routing::AgentSpec& agent(const Config& config, std::string_view id) {
  for (const auto& spec : config.agents) {
    if (spec.id == id) {
      return spec;
    }
  }
  throw std::runtime_error("no agent " + std::string(id));
}

TEST(QuickstartConfig, ServerStoreSecurityAndLogging) {
  Config config = loadConfig(quickstart());
  EXPECT_EQ(config.file, quickstart().lexically_normal());
  EXPECT_EQ(config.version, "1.0");
  EXPECT_EQ(config.server.id, "sb-1");
  ASSERT_EQ(config.server.listeners.size(), 1u);
  EXPECT_EQ(config.server.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(config.server.listeners[0].port, 8080);
  EXPECT_EQ(config.server.listeners[0].threads, 4u);
  EXPECT_FALSE(config.server.listeners[0].tls);

  EXPECT_EQ(config.store.kind, StoreOptions::Kind::Sqlite);
  EXPECT_EQ(config.store.location,
            (testing::sourceDir() / "var/quickstart/switchboard.db").lexically_normal());
  EXPECT_EQ(config.store.maxBatch, 1000u);
  EXPECT_EQ(config.store.maxDelay.count(), 0);

  ASSERT_EQ(config.security.apiKeys.size(), 1u);
  EXPECT_EQ(config.security.apiKeys[0].name, "crm-main");
  EXPECT_EQ(config.security.apiKeys[0].secret.reveal(), "sample-crm-key-0123456789abcdef");
  EXPECT_EQ(config.security.apiKeys[0].secret.origin(), "inline");
  EXPECT_GE(config.security.agentTokenSecret.reveal().size(), 32u);
  EXPECT_EQ(config.security.agentTokenLifetime, std::chrono::hours(8));

  EXPECT_EQ(config.logging.level, LogLevel::Info);
  EXPECT_EQ(config.logging.format, LogFormat::Text);
}

TEST(QuickstartConfig, MaildirDriverWithItsSettingsAndPositions) {
  Config config = loadConfig(quickstart());
  ASSERT_EQ(config.drivers.size(), 1u);
  const DriverConfig& driver = config.drivers[0];
  EXPECT_EQ(driver.type, "maildir");
  EXPECT_EQ(driver.name, "email-1");
  EXPECT_TRUE(driver.enabled);
  const ConfigElement& settings = driver.settings;
  EXPECT_EQ(settings.path("path"), testing::sourceDir() / "var/quickstart/maildir");
  EXPECT_EQ(settings.duration("pollInterval"), seconds(1));
  EXPECT_EQ(settings.byteSize("maxMessageBytes"), 25u * 1024 * 1024);
  EXPECT_EQ(settings.string("contactPoint"), "apoio@mares-telecom.example");
  // The attribute's own place in the file, so a driver's error points at it.
  const std::size_t line = testing::lineOf(quickstart(), "<maildir name=\"email-1\"");
  ASSERT_NE(settings.find("path"), nullptr);
  EXPECT_EQ(settings.find("path")->position.line, line);
  EXPECT_EQ(settings.find("contactPoint")->position.line, line + 1);
  EXPECT_EQ(settings.find("contactPoint")->position.column, 14u);
  try {
    settings.integer("contactPoint", 0, 10);
    FAIL() << "a text read as a number";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.position().line, line + 1);
    EXPECT_EQ(e.setting(), "maildir@contactPoint");
    EXPECT_THAT(e.what(), HasSubstr("switchboard.xml:" + std::to_string(line + 1) + ":14: "));
  }

  DriverSection section = toDriverSection(driver);
  EXPECT_EQ(section.type, "maildir");
  EXPECT_EQ(section.name, "email-1");
  EXPECT_EQ(section.settings.at("pollInterval").value, "1s");
  EXPECT_EQ(section.settings.at("path").line, line);
}

TEST(QuickstartConfig, AgentsWithSkillsCapacityAndAttributes) {
  Config config = loadConfig(quickstart());
  ASSERT_EQ(config.agents.size(), 6u);
  std::set<std::string> sites;
  for (const auto& spec : config.agents) {
    sites.insert(spec.site);
  }
  EXPECT_EQ(sites, (std::set<std::string>{"lisbon", "porto"}));

  const routing::AgentSpec& ana = agent(config, "a-ana");
  EXPECT_EQ(ana.name, "Ana Sousa");
  EXPECT_EQ(ana.site, "lisbon");
  EXPECT_EQ(ana.seniority, 7);
  ASSERT_EQ(ana.skills.size(), 5u);
  EXPECT_EQ(ana.skills[0], (Skill{"billing", 8}));
  EXPECT_EQ(ana.skills[4], (Skill{"spanish", 5}));
  ASSERT_EQ(ana.capacity.size(), 2u);
  ASSERT_EQ(ana.capacity[0].limits.size(), 1u);
  EXPECT_EQ(ana.capacity[0].limits[0].medium, "voice");
  EXPECT_EQ(ana.capacity[0].limits[0].max, 1);
  ASSERT_EQ(ana.capacity[1].limits.size(), 3u);
  EXPECT_EQ(ana.capacity[1].limits[0].medium, "chat");
  EXPECT_EQ(ana.capacity[1].limits[0].max, 3);
  EXPECT_EQ(ana.capacity[1].limits[1].medium, "email");
  EXPECT_EQ(ana.capacity[1].limits[1].max, 5);
  ASSERT_EQ(ana.attributes.size(), 1u);
  EXPECT_EQ(ana.attributes[0].name, "team");
  EXPECT_EQ(ana.attributes[0].values, std::vector<std::string>{"billing-lisbon"});
  EXPECT_FALSE(ana.attributes[0].isList);

  const routing::AgentSpec& filipe = agent(config, "a-filipe");
  ASSERT_EQ(filipe.capacity.size(), 1u);
  EXPECT_EQ(filipe.capacity[0].limits[0].medium, "email");
  EXPECT_EQ(filipe.capacity[0].limits[0].max, 8);
}

TEST(QuickstartConfig, QueuesWithTargetsOrderingsAndEscalation) {
  Config config = loadConfig(quickstart());
  ASSERT_EQ(config.queues.size(), 4u);
  // Queues that others move items to come first, so that the engine can resolve the moves.
  EXPECT_EQ(config.queues[0].id, "general");

  const routing::QueueSpec& billing = queue(config, "billing");
  EXPECT_THAT(billing.target, HasSubstr("agent.skills.billing >= 5"));
  EXPECT_THAT(billing.ordering,
              ElementsAre(OrderKey::PreviousAgent, OrderKey::HighestSkill, OrderKey::LongestIdle));
  EXPECT_EQ(billing.skill, "billing");
  EXPECT_EQ(billing.skillAttribute, "topic");
  EXPECT_EQ(billing.priority, 10);
  EXPECT_EQ(billing.offerTimeout, seconds(20));
  EXPECT_EQ(billing.wrapUp, seconds(30));
  EXPECT_EQ(billing.stickyMaxWait, minutes(1));
  EXPECT_EQ(billing.preferredSite, "lisbon");
  EXPECT_EQ(billing.overflowAfter, minutes(2));
  EXPECT_EQ(billing.maxWait, std::chrono::hours(4));
  EXPECT_EQ(billing.maxWaitOutcome, routing::MaxWaitOutcome::MoveQueue);
  EXPECT_EQ(billing.maxWaitQueue, "general");
  EXPECT_DOUBLE_EQ(billing.ageingPerMinute, 0.5);
  ASSERT_EQ(billing.escalation.size(), 1u);
  EXPECT_EQ(billing.escalation[0].kind, routing::EscalationKind::LowerLevel);
  EXPECT_EQ(billing.escalation[0].after, minutes(10));
  EXPECT_EQ(billing.escalation[0].levels, 3);

  const routing::QueueSpec& technical = queue(config, "technical");
  ASSERT_EQ(technical.escalation.size(), 1u);
  EXPECT_EQ(technical.escalation[0].kind, routing::EscalationKind::Widen);
  EXPECT_EQ(technical.escalation[0].expression, "agent.skills.technical >= 3");

  const routing::QueueSpec& sales = queue(config, "sales");
  EXPECT_THAT(sales.ordering, ElementsAre(OrderKey::RoundRobin));
  EXPECT_EQ(sales.offerTimeout, seconds(30));
  EXPECT_EQ(sales.stickyMaxWait, seconds(30)); // the schema's default
  EXPECT_EQ(sales.maxWait, milliseconds(0));
  ASSERT_EQ(sales.escalation.size(), 1u);
  EXPECT_EQ(sales.escalation[0].kind, routing::EscalationKind::MoveQueue);
  EXPECT_EQ(sales.escalation[0].queue, "general");
  EXPECT_EQ(sales.escalation[0].after, minutes(15));
}

TEST(QuickstartConfig, RulesAndEngineOptions) {
  Config config = loadConfig(quickstart());
  EXPECT_EQ(config.engine.defaultQueue, "general");
  EXPECT_EQ(config.engine.missedOffersLimit, 3);
  EXPECT_EQ(config.engine.trace, routing::TraceLevel::Summary);
  ASSERT_EQ(config.rules.size(), 19u);
  const routing::RuleSpec& staffed = config.rules[6];
  EXPECT_EQ(staffed.name, "staffed-languages");
  EXPECT_EQ(staffed.when, R"(item.language not in ["pt", "en", "es"])");
  EXPECT_EQ(staffed.queue, "");
  ASSERT_EQ(staffed.set.size(), 1u);
  EXPECT_EQ(staffed.set[0].name, "language");
  EXPECT_EQ(staffed.set[0].values, std::vector<std::string>{"pt"});
  EXPECT_EQ(config.rules[8].name, "invoices");
  EXPECT_EQ(config.rules[8].queue, "billing");
  EXPECT_EQ(config.rules[12].name, "billing-subject");
  EXPECT_THAT(config.rules[12].when, HasSubstr(R"(item.subject contains ["fatura", "factura")"));
}

// The configuration is for the routing engine: it must take every queue, rule and agent as
// loaded, and route with them.
TEST(QuickstartConfig, TheRoutingEngineAcceptsItAndRoutes) {
  Config config = loadConfig(quickstart());
  routing::RoutingEngine engine(config.engine);
  Timestamp now = Timestamp(std::chrono::milliseconds(1'800'000'000'000));
  for (const auto& spec : config.queues) {
    auto outcome = engine.upsertQueue(spec, now);
    ASSERT_TRUE(outcome) << spec.id << ": " << outcome.error().message;
  }
  auto rules = engine.setRules(config.rules);
  ASSERT_TRUE(rules) << rules.error().message;
  for (const auto& spec : config.agents) {
    ASSERT_TRUE(engine.upsertAgent(spec, now));
    ASSERT_TRUE(engine.setAgentState(spec.id, AgentState::Ready, "", now));
  }
  routing::ItemSpec item;
  item.id = "wi-1";
  item.medium = "email";
  item.attributes = {routing::AttributeSpec::scalar("topic", "invoice"),
                     routing::AttributeSpec::scalar("language", "pt")};
  ASSERT_TRUE(engine.submit(item, now));
  auto view = engine.item("wi-1");
  ASSERT_TRUE(view);
  EXPECT_EQ(view->queueId, "billing");
  // Lisbon is preferred for billing, and Ana knows billing best there.
  EXPECT_EQ(view->agentId, "a-ana");
}

// The quick start's sample mails (samples/quickstart/mail/), as the Maildir driver makes them
// into work items: the sender as the customer, the driver's contact point, the decoded subject
// and text body. Each must reach the queue a person reading it would choose.
TEST(QuickstartConfig, ClassifiesTheSampleMails) {
  struct Sample {
    std::string file;
    std::string from;
    std::string name;
    std::string subject;
    std::string body;
    std::string queue;
    std::vector<std::string> agents; ///< any of them is a good choice
  };
  const std::vector<Sample> samples = {
      {"01-fatura-duplicada.eml",
       "joana.ferreira@example.com",
       "Joana Ferreira",
       "Fatura de novembro cobrada em duplicado",
       "Bom dia,\n\nA fatura de novembro (n.º 2026-11-4821336) foi debitada duas vezes na minha "
       "conta,\nnos dias 3 e 4. Podem devolver o valor cobrado a mais?\n\nObrigada,\nJoana "
       "Ferreira\nCliente 4821336\n",
       "billing",
       {"a-ana"}},
      {"02-internet-down.eml",
       "mark.davies@example.co.uk",
       "Mark Davies",
       "Internet down since yesterday evening",
       "Hello,\n\nMy fibre connection in Cascais has been down since about 8 pm yesterday. The "
       "router's\nLOS light is blinking red. I have already restarted it twice.\n\nMark "
       "Davies\n",
       "technical",
       {"a-bruno"}},
      {"03-comprovativo.eml",
       "joao.pereira@example.pt",
       "João Pereira",
       "Comprovativo de pagamento",
       "Boa tarde,\n\nEnvio em anexo o comprovativo do pagamento da fatura de outubro, que "
       "consta\ncomo não paga na área de cliente.\n\nJoão Pereira\n",
       "billing",
       {"a-ana"}},
      {"04-upgrade.eml",
       "lucia.martin@example.es",
       "Lucia Martin",
       "Quiero cambiar a fibra 1 Gb",
       "Hola,\n\nTengo la tarifa de 300 Mb y me gustaría pasar a 1 Gb con televisión. ¿Qué "
       "precio tendría\ny cuándo podrían instalarlo?\n\nGracias,\nLucía Martín\n",
       "sales",
       {"a-carla", "a-elena"}},
      {"05-reply-thread.eml",
       "joana.ferreira@example.com",
       "Joana Ferreira",
       "Re: Fatura de novembro cobrada em duplicado",
       "Esqueci-me de dizer: o IBAN para a devolução é o da conta habitual.\n\nJoana\n",
       "billing",
       {"a-ana"}},
  };
  Config config = loadConfig(quickstart());
  routing::RoutingEngine engine(config.engine);
  Timestamp now = Timestamp(std::chrono::milliseconds(1'800'000'000'000));
  for (const auto& spec : config.queues) {
    ASSERT_TRUE(engine.upsertQueue(spec, now));
  }
  ASSERT_TRUE(engine.setRules(config.rules));
  for (const auto& spec : config.agents) {
    ASSERT_TRUE(engine.upsertAgent(spec, now));
    ASSERT_TRUE(engine.setAgentState(spec.id, AgentState::Ready, "", now));
  }
  int n = 0;
  for (const Sample& sample : samples) {
    SCOPED_TRACE(sample.file);
    // Each mail is in the quick start's mail folder with this sender and subject.
    const std::string mail =
        testing::readFile(testing::sourceDir() / "samples/quickstart/mail" / sample.file);
    EXPECT_THAT(mail, HasSubstr("<" + sample.from + ">"));
    WorkItem item;
    item.id = "wi-" + std::to_string(++n);
    item.medium = "email";
    Customer customer;
    customer.name = sample.name;
    customer.addresses = {Address{"email", sample.from, sample.name}};
    item.customer = customer;
    // The quick start's Maildir driver reports its configured address for every mail.
    item.contactPoint = Address{"email", "apoio@mares-telecom.example", std::nullopt};
    item.subject = sample.subject;
    item.body = Body{"text/plain", sample.body};
    auto spec = routing::itemFromMessage(item);
    ASSERT_TRUE(spec);
    ASSERT_TRUE(engine.submit(spec.value(), now));
    auto view = engine.item(*item.id);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->queueId, sample.queue);
    EXPECT_THAT(sample.agents, ::testing::Contains(view->agentId));
  }
}

TEST(ConfigSecrets, FromAFileAndFromTheEnvironment) {
  testing::TempFolder folder;
  folder.write("secrets/crm.key", "file-secret-0123456789abcdef\n");
  ::setenv("SB_TEST_TOKEN_SECRET", "environment-secret-0123456789abcdef-0123", 1);
  std::filesystem::path file =
      folder.write("conf/switchboard.xml", testing::configWith({{"security", R"(<security>
    <apiKey name="crm" secretFile="../secrets/crm.key"/>
    <agentTokens secretEnv="SB_TEST_TOKEN_SECRET" lifetime="30m"/>
  </security>)"}}));
  Config config = loadConfig(file);
  ASSERT_EQ(config.security.apiKeys.size(), 1u);
  EXPECT_EQ(config.security.apiKeys[0].secret.reveal(), "file-secret-0123456789abcdef");
  EXPECT_EQ(config.security.apiKeys[0].secret.origin(),
            "file " + (folder.path() / "secrets/crm.key").string());
  EXPECT_EQ(config.security.agentTokenSecret.reveal(), "environment-secret-0123456789abcdef-0123");
  EXPECT_EQ(config.security.agentTokenSecret.origin(), "environment variable SB_TEST_TOKEN_SECRET");
  EXPECT_EQ(config.security.agentTokenLifetime, minutes(30));
  ::unsetenv("SB_TEST_TOKEN_SECRET");
}

TEST(ConfigPaths, RelativePathsStartAtTheConfigurationsFolder) {
  testing::TempFolder folder;
  folder.write("tls/server.pem", "certificate");
  folder.write("tls/server.key", "key");
  std::filesystem::path file = folder.write(
      "etc/switchboard.xml", testing::configWith({{"server", R"(<server id="sb-9">
    <listener address="0.0.0.0" port="8443" threads="16">
      <tls certificate="../tls/server.pem" key="../tls/server.key"/>
    </listener>
    <listener port="0"/>
  </server>)"},
                                                  {"store", R"(<store maxBatch="50" maxDelay="2ms">
    <sqlite path="data/sb.db"/>
  </store>)"},
                                                  {"drivers", R"(<drivers>
    <maildir name="mail-1" path="/var/mail/support" enabled="false"/>
    <maildir name="mail-2" path="inbox" pollInterval="250ms" maxMessageBytes="10MiB"/>
  </drivers>)"}}));
  Config config = loadConfig(file);
  ASSERT_EQ(config.server.listeners.size(), 2u);
  ASSERT_TRUE(config.server.listeners[0].tls);
  EXPECT_EQ(config.server.listeners[0].tls->certificate, folder.path() / "tls/server.pem");
  EXPECT_EQ(config.server.listeners[0].tls->key, folder.path() / "tls/server.key");
  EXPECT_EQ(config.server.listeners[0].threads, 16u);
  EXPECT_EQ(config.server.listeners[1].address, "127.0.0.1");
  EXPECT_EQ(config.server.listeners[1].port, 0);
  EXPECT_EQ(config.store.location, (folder.path() / "etc/data/sb.db").string());
  EXPECT_EQ(config.store.maxBatch, 50u);
  EXPECT_EQ(config.store.maxDelay, std::chrono::microseconds(2000));
  ASSERT_EQ(config.drivers.size(), 2u);
  EXPECT_FALSE(config.drivers[0].enabled);
  EXPECT_EQ(config.drivers[0].settings.path("path"), "/var/mail/support");
  EXPECT_EQ(config.drivers[1].settings.path("path"), folder.path() / "etc/inbox");
  EXPECT_EQ(config.drivers[1].settings.duration("pollInterval"), milliseconds(250));
  EXPECT_EQ(config.drivers[1].settings.byteSize("maxMessageBytes"), 10u * 1024 * 1024);
  // Defaults come from the driver's schema part, and are marked as not written.
  const ConfigAttribute* poll = config.drivers[0].settings.find("pollInterval");
  ASSERT_NE(poll, nullptr);
  EXPECT_FALSE(poll->specified);
  EXPECT_EQ(poll->value, "1s");
  EXPECT_EQ(config.drivers[0].settings.find("contactPoint"), nullptr);
}

TEST(ConfigStore, PostgresqlConnectionIsASecret) {
  testing::TempFolder folder;
  ::setenv("SB_TEST_PG", "host=127.0.0.1 port=5432 dbname=sb user=sb password=hunter2", 1);
  std::filesystem::path file =
      folder.write("switchboard.xml", testing::configWith({{"store", R"(<store>
    <postgresql connectionEnv="SB_TEST_PG"/>
  </store>)"}}));
  Config config = loadConfig(file);
  EXPECT_EQ(config.store.kind, StoreOptions::Kind::Postgresql);
  EXPECT_EQ(config.store.location, "host=127.0.0.1 port=5432 dbname=sb user=sb password=hunter2");
  ::unsetenv("SB_TEST_PG");
}

TEST(ConfigWebhooks, HooksWithTheirEventsSecretsAndDefaults) {
  testing::TempFolder folder;
  std::filesystem::path file =
      folder.write("switchboard.xml", testing::configWith({{"webhooks", R"(<webhooks>
    <webhook name="crm-events" url="https://crm.example/hooks" secret="hook-secret-0123456789"
             events="workItem.arrived agent.stateChanged" retryHorizon="2h" start="beginning"/>
    <webhook name="audit" url="http://127.0.0.1:9000/in" format="xml"
             secret="audit-secret-0123456789"/>
  </webhooks>)"}}));
  Config config = loadConfig(file);
  ASSERT_EQ(config.webhooks.size(), 2u);
  const WebhookConfig& crm = config.webhooks[0];
  EXPECT_EQ(crm.name, "crm-events");
  EXPECT_EQ(crm.url, "https://crm.example/hooks");
  EXPECT_FALSE(crm.xml);
  EXPECT_EQ(crm.secret.reveal(), "hook-secret-0123456789");
  EXPECT_EQ(crm.events, (std::vector<std::string>{"workItem.arrived", "agent.stateChanged"}));
  EXPECT_EQ(crm.retryHorizon, std::chrono::hours(2));
  EXPECT_FALSE(crm.startAtEnd);
  const WebhookConfig& audit = config.webhooks[1];
  EXPECT_TRUE(audit.xml);
  EXPECT_TRUE(audit.events.empty());
  EXPECT_EQ(audit.timeout, std::chrono::seconds(10));
  EXPECT_EQ(audit.retryHorizon, std::chrono::hours(24));
  EXPECT_TRUE(audit.startAtEnd);

  std::filesystem::path bad =
      folder.write("bad.xml", testing::configWith({{"webhooks", R"(<webhooks>
    <webhook name="crm" url="https://crm.example/hooks" secret="hook-secret-0123456789"
             events="workItem.arrived workItem.teleported"/>
  </webhooks>)"}}));
  try {
    loadConfig(bad);
    FAIL() << "an unknown event name was accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.setting(), "webhook@events");
    EXPECT_NE(std::string(error.what()).find("workItem.teleported"), std::string::npos)
        << error.what();
  }
  std::filesystem::path shortSecret =
      folder.write("short.xml", testing::configWith({{"webhooks", R"(<webhooks>
    <webhook name="crm" url="https://crm.example/hooks" secret="tiny"/>
  </webhooks>)"}}));
  try {
    loadConfig(shortSecret);
    FAIL() << "a short secret was accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.setting(), "webhook@secret");
    EXPECT_EQ(std::string(error.what()).find("tiny"), std::string::npos) << "secrets stay out";
  }
}

TEST(ConfigQueues, MovesAreOrderedSoTheEngineCanResolveThem) {
  testing::TempFolder folder;
  std::filesystem::path file =
      folder.write("switchboard.xml", testing::configWith({{"queues", R"(<queues>
    <queue id="first"><escalation><moveQueue after="1m" queue="second"/></escalation></queue>
    <queue id="second" maxWait="1h" maxWaitOutcome="moveQueue" maxWaitQueue="third"/>
    <queue id="third"/>
    <queue id="fourth"/>
  </queues>)"}}));
  Config config = loadConfig(file);
  std::vector<std::string> order;
  for (const auto& spec : config.queues) {
    order.push_back(spec.id);
  }
  EXPECT_THAT(order, ElementsAre("third", "second", "first", "fourth"));
  routing::RoutingEngine engine(config.engine);
  for (const auto& spec : config.queues) {
    EXPECT_TRUE(engine.upsertQueue(spec, Timestamp{})) << spec.id;
  }
}

TEST(ConfigAgents, InlineMixesAndListAttributes) {
  testing::TempFolder folder;
  std::filesystem::path file =
      folder.write("switchboard.xml", testing::configWith({{"agents", R"(<agents>
    <agent id="a-1" site="lisbon">
      <mix><limit medium="sms" max="10"/></mix>
      <attribute name="languages" values="pt en  es"/>
      <attribute name="weight" value="2.5"/>
    </agent>
  </agents>)"}}));
  Config config = loadConfig(file);
  ASSERT_EQ(config.agents.size(), 1u);
  const routing::AgentSpec& one = config.agents[0];
  EXPECT_EQ(one.seniority, 0);
  EXPECT_EQ(one.name, "");
  ASSERT_EQ(one.capacity.size(), 1u);
  EXPECT_EQ(one.capacity[0].limits[0].medium, "sms");
  ASSERT_EQ(one.attributes.size(), 2u);
  EXPECT_TRUE(one.attributes[0].isList);
  EXPECT_THAT(one.attributes[0].values, ElementsAre("pt", "en", "es"));
  EXPECT_EQ(one.attributes[1].values, std::vector<std::string>{"2.5"});
}

TEST(ConfigPush, TheAgentStreamSettingsAndTheirDefaults) {
  testing::TempFolder folder;
  Config defaults = loadConfig(folder.write("default.xml", testing::configWith({})));
  EXPECT_EQ(defaults.push.heartbeat, std::chrono::seconds(15));
  EXPECT_EQ(defaults.push.grace, std::chrono::seconds(30));
  EXPECT_EQ(defaults.push.queueLimit, 1024u);
  EXPECT_EQ(defaults.push.history, 64u);

  // <push> follows <logging>: given in its place.
  Config config =
      loadConfig(folder.write("switchboard.xml", testing::configWith({{"logging", R"(<logging/>
  <push heartbeat="5s" grace="0" queueLimit="16" sendTimeout="2s" history="8" historyAge="1m"
        readers="4" senders="3"/>)"}})));
  EXPECT_EQ(config.push.heartbeat, std::chrono::seconds(5));
  EXPECT_EQ(config.push.grace, std::chrono::milliseconds(0));
  EXPECT_EQ(config.push.queueLimit, 16u);
  EXPECT_EQ(config.push.sendTimeout, std::chrono::seconds(2));
  EXPECT_EQ(config.push.history, 8u);
  EXPECT_EQ(config.push.historyAge, std::chrono::minutes(1));
  EXPECT_EQ(config.push.readers, 4u);
  EXPECT_EQ(config.push.senders, 3u);

  std::filesystem::path bad =
      folder.write("bad.xml", testing::configWith({{"logging", "<push heartbeat=\"10ms\"/>"}}));
  try {
    loadConfig(bad);
    FAIL() << "a heartbeat of 10ms was taken";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.setting(), "push@heartbeat");
  }
}

} // namespace
} // namespace switchboard
