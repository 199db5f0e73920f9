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
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
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

/// TLS for a listener: a PEM certificate (chain) and its private key. TLS 1.2 and 1.3 only.
struct ApiTls {
  std::string certificateFile;
  std::string keyFile;
};

/// A further address the API listens on, besides ApiOptions' own.
struct ApiListener {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::optional<ApiTls> tls;
};

/// A folder of static files (a web page, such as the sample agent desktop) served as it is under
/// a URL prefix, without authentication: GET and HEAD only, never a path outside the folder, no
/// dot files, "PREFIX" redirected to "PREFIX/", index.html for a folder, an ETag for
/// revalidation. The files must hold no secrets: whoever reaches the listener reads them.
struct StaticFolder {
  /// "/agent/": starts and ends with '/', has at least one segment, and is not one of the
  /// API's own paths (/v1/, /healthz, /readyz, /metrics).
  std::string urlPrefix;
  std::filesystem::path folder;   ///< the folder served
  std::chrono::seconds maxAge{0}; ///< Cache-Control max-age; 0: "no-cache" (revalidate first)
};

struct ApiOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080; ///< 0 binds any free port; HttpApi::port() tells which
  std::optional<ApiTls> tls; ///< serve HTTPS (and WSS) on address:port
  /// More listeners, each with or without TLS, served by the same endpoints and threads.
  std::vector<ApiListener> moreListeners;
  /// Requests served at once. Without TLS an idle keep-alive connection holds no thread; a TLS
  /// listener (Poco's HTTPServer) holds one per open connection.
  int threads = 16;
  int maxQueued = 256; ///< TLS listeners: accepted connections waiting for a thread
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
  /// The bytes of an attachment by its digest ("sha256:..."), or nothing when they are not
  /// stored: the AttachmentStore's get(). Empty: GET /v1/work-items/{id}/attachments/{index}
  /// answers 503. Called on HTTP worker threads at once.
  std::function<std::optional<std::string>(const std::string& digest)> attachmentBytes;
  /// Static folders served beside the API; HttpApi's constructor refuses a bad prefix.
  std::vector<StaticFolder> staticFolders;
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

/// What an endpoint added with HttpApi::addRoute() sees of its request.
struct RouteRequest {
  Principal principal;
  std::vector<std::pair<std::string, std::string>> params; ///< path parameters, decoded
  std::string body;                                        ///< JSON for a POST; may be empty

  /// The path parameter `name`; empty when the route has none of that name.
  std::string param(const std::string& name) const;
};

/// The answer of such an endpoint: a status and a JSON body.
struct RouteResponse {
  int status = 200;
  std::string body;
};

/// Thrown by a RouteHandler to refuse a request: status 400 (bad input), 404 (no such
/// resource) or 409 (not now), answered as a problem with `what()` as its detail.
class RouteError : public std::runtime_error {
 public:
  RouteError(int status, const std::string& detail) : std::runtime_error(detail), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

using RouteHandler = std::function<RouteResponse(const RouteRequest&)>;

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

  /// Adds a JSON endpoint of another part of the server (the web hooks' status and replay),
  /// open to integrator keys only, with the API's authentication, errors, metrics and
  /// Idempotency-Key handling. Call before start(). Throws std::invalid_argument for a method and
  /// pattern that exist already, std::logic_error after start().
  void addRoute(std::string method, std::string pattern, RouteHandler handler);

  /// Binds every listener and starts serving. Throws std::runtime_error naming the address when
  /// it cannot bind or load a TLS certificate or key; nothing is left running then.
  void start();
  /// Stops accepting, lets requests in progress finish (up to drainTimeout), closes the rest.
  /// Idempotent.
  void stop();
  /// The port bound by start() (the real one when options.port is 0); 0 before start().
  std::uint16_t port() const;
  /// Every listener as "http://ADDRESS:PORT" or "https://ADDRESS:PORT", the options' own first;
  /// empty before start().
  std::vector<std::string> urls() const;

  /// Every endpoint as (method, pattern), in the order they are matched.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  std::unique_ptr<api::HttpApiImpl> impl_;
};

/// Registers scrape-time metrics computed from the Service: per queue waiting items, oldest
/// wait, agents ready and busy, service level, answered and abandoned today; agents by state.
void registerServiceMetrics(MetricsRegistry& metrics, Service& service);

} // namespace switchboard
