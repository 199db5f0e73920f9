#pragma once

// The REST API: a Poco::Net HTTP server that translates HTTP to Service calls (docs/rest-api.md,
// docs/openapi.json). It authenticates every endpoint but /healthz, /readyz and /metrics,
// answers errors as RFC 9457 problem details, honours Idempotency-Key on POSTs, and counts and
// times every request in the MetricsRegistry.
//
// Lifecycle: construct, optionally addUpgradeRoute(), start(), ..., stop(). The destructor stops.
// The Service, registry and logger must outlive the HttpApi.

#include "switchboard/log.h"
#include "switchboard/metrics.h"
#include "switchboard/service.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace switchboard {

namespace api {
struct HttpApiImpl;
} // namespace api

/// An integrator's API key. `name` identifies the integrator in logs and as the caller of
/// POST /v1/messages; `secret` is what it sends as "Authorization: Bearer <secret>".
struct ApiKey {
  std::string name;
  std::string secret;
};

struct ApiOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080; ///< 0 binds any free port; HttpApi::port() tells which
  int threads = 16;          ///< requests served at once (Poco's thread pool)
  int maxQueued = 256;       ///< accepted connections waiting for a thread
  std::vector<ApiKey> keys;
  /// Signs agent tokens (HMAC-SHA256). Empty: agent tokens are neither issued nor accepted.
  /// Otherwise at least 32 bytes.
  std::string tokenSecret;
  std::chrono::seconds tokenLifetime{8 * 3600};
  std::size_t maxBodyBytes = 1024 * 1024;
  /// When true, /metrics needs an integrator key like the rest of the API. Off by default:
  /// scrapers usually reach /metrics on an internal address without credentials.
  bool metricsNeedKey = false;
  /// How long stop() lets requests in progress finish before it closes their connections.
  std::chrono::milliseconds drainTimeout{5000};
  std::chrono::seconds keepAliveTimeout{15};
};

/// Who made a request: an integrator (by key name) or an agent (by agent id, from its token).
struct Principal {
  enum class Kind { None, Integrator, Agent };
  Kind kind = Kind::None;
  std::string id;

  bool integrator() const { return kind == Kind::Integrator; }
  bool agent() const { return kind == Kind::Agent; }
};

/// What an upgrade handler learns about the request it takes over.
struct UpgradeContext {
  Principal principal;
  std::vector<std::pair<std::string, std::string>> params; ///< path parameters, decoded
};

/// Takes over a request that asked for a protocol upgrade (WebSocket). It may construct a
/// Poco::Net::WebSocket from the request and response, and keep it beyond its return (the
/// WebSocket detaches the connection from the HTTP server). It runs on an HTTP server thread.
using UpgradeHandler = std::function<void(Poco::Net::HTTPServerRequest&,
                                          Poco::Net::HTTPServerResponse&, const UpgradeContext&)>;

class HttpApi {
 public:
  /// Registers the API's metrics in `metrics`. Throws std::invalid_argument for bad options
  /// (a token secret shorter than 32 bytes, no threads, a key without a secret).
  HttpApi(Service& service, MetricsRegistry& metrics, Logger& logger, ApiOptions options);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  /// Routes requests for `pattern` ("/v1/agents/{id}/stream") that carry "Upgrade: websocket"
  /// to `handler`, after authentication: an integrator key, or an agent token whose agent is the
  /// {id} parameter when the pattern has one. Browsers cannot set headers on a WebSocket, so
  /// here the token may also come as the query parameter access_token. Call before start().
  void addUpgradeRoute(std::string pattern, UpgradeHandler handler);

  /// Routes `method` requests for `pattern` to `handler` without the API's own authentication:
  /// the handler checks credentials of its own (external channel drivers present their driver
  /// keys, not integrator keys), reads the body itself and writes the whole response. A GET
  /// route also takes requests with "Upgrade: websocket". The principal it is given is None.
  /// Such routes are matched before every other and counted in the request metrics like them.
  /// Call before start().
  void addOwnRoute(std::string method, std::string pattern, UpgradeHandler handler);

  /// Binds and starts serving. Throws std::runtime_error naming the address when it cannot bind;
  /// nothing is left running then.
  void start();
  /// Stops accepting, lets requests in progress finish (up to drainTimeout), closes the rest.
  /// Idempotent.
  void stop();
  /// The port bound by start() (the real one when options.port is 0); 0 before start().
  std::uint16_t port() const;

  /// Every endpoint as (method, pattern), in the order they are matched.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  std::unique_ptr<api::HttpApiImpl> impl_;
};

/// Registers scrape-time metrics computed from the Service: per queue waiting items, oldest
/// wait, agents ready and busy, service level, answered and abandoned today; agents by state.
void registerServiceMetrics(MetricsRegistry& metrics, Service& service);

} // namespace switchboard
