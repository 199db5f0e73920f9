#pragma once

// The endpoint where drivers in other processes connect (docs/external-drivers.md):
//
//   GET  /v1/drivers/{name}/connect    WebSocket: text frames both ways, one document each
//   POST /v1/drivers/{name}/messages   a message document in, its response document out
//   GET  /v1/drivers/{name}/commands   long poll: the next command (200) or none yet (204)
//   POST /v1/drivers/{name}/errors     the driver reports a document it could not read
//
// Every request carries the driver's key ("Authorization: Bearer <key>"). An unknown name is
// answered 404, a wrong key 401; both are counted and logged, never with the key. Errors before
// a document is read are RFC 9457 problem details, like the REST API's.

#include "external_driver.h"

#include "switchboard/http_api.h"
#include "switchboard/log.h"
#include "switchboard/metrics.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace switchboard::external {

class ExternalEndpoint {
 public:
  /// Registers the endpoint's metrics in `metrics` when given: switchboard_external_drivers_
  /// connected, switchboard_external_bad_documents_total{driver} and
  /// switchboard_external_auth_failures_total{reason}. `logger` (and `metrics`) must outlive it.
  ExternalEndpoint(Logger& logger, MetricsRegistry* metrics = nullptr);
  ~ExternalEndpoint();
  ExternalEndpoint(const ExternalEndpoint&) = delete;
  ExternalEndpoint& operator=(const ExternalEndpoint&) = delete;

  /// Makes `driver` reachable under its name. Throws std::invalid_argument for a name taken.
  void attach(ExternalDriver& driver);
  /// Ends its WebSocket connection and makes the name unknown again.
  void detach(const std::string& name);

  /// Adds the four routes to `api` (HttpApi::addOwnRoute). Call before api.start().
  void install(HttpApi& api);

  /// Serves one request whose path is /v1/drivers/{name}/{what}: dispatches it by method and
  /// path (404 for any other path). For hosts without an HttpApi (the conformance kit).
  void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

  /// Closes every WebSocket connection and wakes every long poll; the endpoint threads then
  /// return. Call before the HTTP server stops.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace switchboard::external
