#include "serve_command.h"

#include "adapters/email/imap_source.h"
#include "adapters/email/maildir_source.h"
#include "adapters/email/pop3_source.h"
#include "adapters/external/external_registration.h"
#include "connectors/odbc/odbc_connector.h"
#include "connectors/rest/webhook_dispatcher.h"
#include "connectors/rest/webhook_routes.h"
#include "switchboard/agent_push.h"
#include "switchboard/communication_server.h"

#include "switchboard/attachment_store.h"
#include "switchboard/config.h"
#include "switchboard/http_api.h"
#include "switchboard/log.h"
#include "switchboard/metrics.h"

#include <csignal>
#include <iostream>
#include <pthread.h>

namespace switchboard {
namespace {

// Attachments live beside an SQLite store; a PostgreSQL installation names its folder.
std::filesystem::path attachmentFolder(const Config& config) {
  if (config.store.kind == StoreOptions::Kind::Sqlite) {
    return std::filesystem::path(config.store.location).parent_path() / "attachments";
  }
  return config.file.parent_path() / "attachments";
}

// SIGINT and SIGTERM are blocked in every thread and taken by sigwait() in the main thread, so
// that the server stops in order whatever thread the signal was sent to.
sigset_t terminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

} // namespace

int serveCommand(std::span<const std::string_view> arguments, std::ostream& out,
                 std::ostream& err) {
  if (arguments.size() != 2 || arguments[0] != "--config") {
    err << "Usage: switchboard serve --config FILE\n";
    return 2;
  }
  sigset_t signals = terminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Config config;
  try {
    config = loadConfig(std::filesystem::path(arguments[1]));
  } catch (const ConfigError& e) {
    err << e.what() << '\n';
    return 1;
  }
  Logger logger(config.logging.level, config.logging.format, std::cerr);
  MetricsRegistry metrics;
  try {
    std::unique_ptr<Store> store = openStore(config.store);
    AttachmentStore attachments(attachmentFolder(config));

    CoreOptions core;
    core.serverId = config.server.id;
    core.engine = config.engine;
    core.queues = config.queues;
    core.rules = config.rules;
    core.agents = config.agents;
    // CRM connectors: each sees every item that ends; the first with lookups enriches arrivals.
    // Declared before the server, so that they outlive it.
    std::vector<std::unique_ptr<odbc::OdbcConnector>> connectors;
    CommunicationServer server(core, *store);
    server.registerMetrics(metrics);
    for (const ConnectorConfig& connectorConfig : config.connectors) {
      if (!connectorConfig.enabled || connectorConfig.type != "odbc") {
        continue;
      }
      odbc::OdbcOptions odbcOptions = odbc::readOdbcOptions(connectorConfig);
      bool enriches = !odbcOptions.lookups.empty();
      auto& connector =
          connectors.emplace_back(std::make_unique<odbc::OdbcConnector>(std::move(odbcOptions)));
      connector->registerMetrics(metrics);
      server.addEndObserver(*connector);
      if (enriches) {
        server.setEnricher(connector.get());
      }
    }
    server.start();
    for (auto& connector : connectors) {
      connector->start(server, *store);
    }

    ApiOptions api;
    auto tlsOf = [](const ListenerConfig& listener) -> std::optional<ApiTls> {
      if (!listener.tls) {
        return std::nullopt;
      }
      return ApiTls{listener.tls->certificate.string(), listener.tls->key.string()};
    };
    // The first listener is the API's own; the others share its endpoints and its threads.
    const ListenerConfig& first = config.server.listeners.front();
    api.address = first.address;
    api.port = first.port;
    api.tls = tlsOf(first);
    api.threads = 0;
    for (const ListenerConfig& listener : config.server.listeners) {
      api.threads += static_cast<int>(listener.threads);
      if (&listener != &first) {
        api.moreListeners.push_back({listener.address, listener.port, tlsOf(listener)});
      }
    }
    for (const auto& key : config.security.apiKeys) {
      api.keys.push_back({key.name, key.secret.reveal()});
    }
    api.tokenSecret = config.security.agentTokenSecret.reveal();
    api.tokenLifetime = config.security.agentTokenLifetime;
    api.attachmentBytes = [&attachments](const std::string& digest) {
      return attachments.get(digest);
    };
    for (const auto& files : config.server.staticFiles) {
      api.staticFolders.push_back({files.urlPrefix, files.folder, files.maxAge});
    }
    // Drivers in other processes connect at /v1/drivers/{name}/... with their own keys. Declared
    // before the HTTP server, so that it outlives the server's threads.
    external::ExternalEndpoint externalEndpoint(logger, &metrics);
    HttpApi http(server, metrics, logger, api);
    registerServiceMetrics(metrics, server);
    PushOptions pushOptions;
    pushOptions.heartbeat = config.push.heartbeat;
    pushOptions.grace = config.push.grace;
    pushOptions.queueLimit = config.push.queueLimit;
    pushOptions.sendTimeout = config.push.sendTimeout;
    pushOptions.historyLimit = config.push.history;
    pushOptions.historyAge = config.push.historyAge;
    pushOptions.readers = static_cast<int>(config.push.readers);
    pushOptions.senders = static_cast<int>(config.push.senders);
    AgentPush push(server, metrics, logger, pushOptions);
    push.subscribe(server);
    http.addUpgradeRoute("/v1/agents/{id}/stream", push.upgradeHandler());

    std::vector<std::unique_ptr<webhooks::WebhookDispatcher>> hooks;
    for (const WebhookConfig& hook : config.webhooks) {
      webhooks::WebhookOptions options;
      options.name = hook.name;
      options.url = hook.url;
      options.format = hook.xml ? webhooks::PayloadFormat::Xml : webhooks::PayloadFormat::Json;
      options.secret = hook.secret.reveal();
      options.events.insert(hook.events.begin(), hook.events.end());
      options.timeout = hook.timeout;
      options.retryHorizon = hook.retryHorizon;
      options.maxBackoff = hook.maxBackoff;
      options.startAtEnd = hook.startAtEnd;
      hooks.push_back(std::make_unique<webhooks::WebhookDispatcher>(
          *store, std::move(options), config.server.id, metrics, logger));
    }
    webhooks::addWebhookRoutes(http, hooks);
    for (auto& hook : hooks) {
      hook->start();
    }
    externalEndpoint.install(http);
    push.start();
    http.start();

    DriverRegistry registry;
    email::registerMaildirDriver(registry);
    external::registerExternalDriver(registry, externalEndpoint, logger);
    email::registerPop3Driver(registry);
    email::registerImapDriver(registry);
    std::vector<std::pair<std::string, std::unique_ptr<ChannelDriver>>> drivers;
    for (const DriverConfig& driverConfig : config.drivers) {
      if (!driverConfig.enabled) {
        continue;
      }
      DriverSection section = toDriverSection(driverConfig);
      DriverContext context{section, server, attachments, config.server.id, &driverConfig.settings,
                            &metrics};
      std::unique_ptr<ChannelDriver> driver = registry.create(context);
      server.attachDriver(section.name, *driver);
      driver->start();
      logger.info("driver.started", {{"driver", section.name}, {"type", section.type}});
      drivers.emplace_back(section.name, std::move(driver));
    }
    logger.info("server.started", {{"id", config.server.id},
                                   {"listeners", static_cast<std::int64_t>(http.urls().size())},
                                   {"port", static_cast<std::int64_t>(http.port())}});
    for (const std::string& url : http.urls()) {
      out << "switchboard " << config.server.id << " listening on " << url << '\n';
    }
    out << std::flush;

    int received = 0;
    sigwait(&signals, &received);
    logger.info("server.stopping", {{"signal", static_cast<std::int64_t>(received)}});
    for (auto& [name, driver] : drivers) {
      driver->stop();
      server.detachDriver(name);
    }
    externalEndpoint.shutdown();
    push.stop();
    http.stop();
    for (auto& hook : hooks) {
      hook->stop();
    }
    for (auto& connector : connectors) {
      connector->stop();
    }
    server.stop();
    logger.info("server.stopped", {});
    return 0;
  } catch (const ConfigError& e) {
    err << e.what() << '\n';
    return 1;
  } catch (const SettingError& e) {
    err << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    logger.error("server.failed", {{"reason", std::string(e.what())}});
    err << "switchboard: " << e.what() << '\n';
    return 1;
  }
}

} // namespace switchboard
