#include "switchboard/http_api.h"

#include "api_endpoints.h"
#include "api_request.h"
#include "authenticator.h"
#include "http_connections.h"
#include "json_mapping.h"
#include "router.h"
#include "static_files.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <set>
#include <thread>

namespace switchboard {

using api::ApiError;
using api::ApiErrorCode;
using api::ApiRequest;
using api::ApiResponse;
using api::problemResponse;

namespace {

constexpr std::size_t kMaxIdempotencyKeyBytes = 255;
constexpr std::string_view kUnmatchedRoute = "unmatched";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The media type of a Content-Type value, lower case, without parameters.
std::string mediaType(const std::string& contentType) {
  auto type = std::string_view(contentType).substr(0, contentType.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
    type.remove_suffix(1);
  }
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) {
    type.remove_prefix(1);
  }
  return lower(type);
}

bool acceptsMediaType(api::BodyKind kind, const std::string& type) {
  switch (kind) {
  case api::BodyKind::None:
    return true;
  case api::BodyKind::Json:
    return type == "application/json" || type.ends_with("+json");
  case api::BodyKind::Xml:
    return type == "application/xml" || type == "text/xml" || type.ends_with("+xml");
  }
  return false;
}

bool hasBody(const Poco::Net::HTTPServerRequest& request) {
  return request.getChunkedTransferEncoding() ||
         (request.hasContentLength() && request.getContentLength64() > 0);
}

} // namespace

struct api::HttpApiImpl {
  HttpApiImpl(Service& service, MetricsRegistry& registry, Logger& logger, ApiOptions options);

  void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
  void handleUpgrade(std::size_t index, api::PathParams params,
                     Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response);
  void handleStatic(const StaticFolder& folder, Poco::Net::HTTPServerRequest& request,
                    Poco::Net::HTTPServerResponse& response);
  void handleOwn(std::size_t index, api::PathParams params, Poco::Net::HTTPServerRequest& request,
                 Poco::Net::HTTPServerResponse& response);

  /// A POST with an Idempotency-Key while it runs: its key (scoped to the caller) and the hash
  /// of what it asked, to store with its answer.
  struct Idempotent {
    std::string key;
    std::string requestHash;
  };
  /// The answer, or nothing when a deferred endpoint will send it (runDeferred()).
  std::optional<ApiResponse> process(Poco::Net::HTTPServerRequest& request,
                                     Poco::Net::HTTPServerResponse& raw, const api::Route*& route,
                                     bool& close, std::string& path,
                                     std::chrono::steady_clock::time_point start);
  /// With `idempotent`, the answer is stored (asynchronously) before it is sent.
  void runDeferred(const api::Route& route, const ApiRequest& request,
                   Poco::Net::HTTPServerResponse& response,
                   std::chrono::steady_clock::time_point start,
                   std::shared_ptr<api::HttpConnections::Parked> parked,
                   std::optional<Idempotent> idempotent = std::nullopt);
  Principal authenticate(const Poco::Net::HTTPServerRequest& request, api::Access access,
                         std::optional<std::string> queryCredential = std::nullopt);
  std::string readBody(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response, bool& close);
  /// Checks the key; the stored answer when the same request was answered before (a replay),
  /// else marks the key in flight (endIdempotent() clears it). Throws ApiError.
  std::optional<ApiResponse> beginIdempotent(const ApiRequest& request, const std::string& target,
                                             Idempotent& idempotent);
  void endIdempotent(const Idempotent& idempotent);
  /// What is kept of `response` for replays: answers below 500 only.
  static std::optional<StoredResponse> toStore(const Idempotent& idempotent,
                                               const ApiResponse& response);
  /// Runs a request beginIdempotent() let through, on this thread, stores its answer and ends it.
  ApiResponse runIdempotent(const api::Route& route, const ApiRequest& request,
                            const Idempotent& idempotent);
  ApiResponse run(const api::Route& route, const ApiRequest& request);
  void send(Poco::Net::HTTPServerResponse& response, const ApiResponse& content, bool close);
  void count(std::string_view route, const std::string& method, int status,
             std::chrono::steady_clock::time_point start);

  Service& service_;
  MetricsRegistry& registry_;
  Logger& logger_;
  ApiOptions options_;
  api::Authenticator authenticator_;
  api::EndpointContext context_;
  api::Router router_;
  api::Router upgradeRouter_;
  std::vector<UpgradeHandler> upgradeHandlers_;
  api::StaticFiles staticFiles_;
  api::Router ownRouter_; ///< routes whose handlers authenticate callers themselves
  std::vector<UpgradeHandler> ownHandlers_;

  Family<Counter>& requests_;
  Family<Histogram>& latency_;
  Family<Counter>& handlerErrors_;
  Family<Counter>& authFailures_;
  Gauge& inFlight_;
  std::atomic<int> active_{0};

  std::mutex idempotencyMutex_;
  std::set<std::string> idempotencyInFlight_;

  bool started_ = false;
  std::unique_ptr<api::HttpConnections> connections_;              ///< the listeners without TLS
  std::unique_ptr<Poco::ThreadPool> pool_;                         ///< for the TLS listeners:
  std::vector<std::unique_ptr<Poco::Net::HTTPServer>> tlsServers_; ///< Poco's own server
  std::vector<std::string> urls_;
  std::uint16_t port_ = 0;
  std::mutex lifecycleMutex_;
};

namespace {

class ApiRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit ApiRequestHandler(api::HttpApiImpl& impl) : impl_(impl) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    impl_.handle(request, response);
  }

 private:
  api::HttpApiImpl& impl_;
};

class UpgradeRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  UpgradeRequestHandler(api::HttpApiImpl& impl, std::size_t index, api::PathParams params)
      : impl_(impl), index_(index), params_(std::move(params)) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    impl_.handleUpgrade(index_, std::move(params_), request, response);
  }

 private:
  api::HttpApiImpl& impl_;
  std::size_t index_;
  api::PathParams params_;
};

class StaticRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  StaticRequestHandler(api::HttpApiImpl& impl, const StaticFolder& folder)
      : impl_(impl), folder_(folder) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    impl_.handleStatic(folder_, request, response);
  }

 private:
  api::HttpApiImpl& impl_;
  const StaticFolder& folder_;
};

class OwnRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  OwnRequestHandler(api::HttpApiImpl& impl, std::size_t index, api::PathParams params)
      : impl_(impl), index_(index), params_(std::move(params)) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    impl_.handleOwn(index_, std::move(params_), request, response);
  }

 private:
  api::HttpApiImpl& impl_;
  std::size_t index_;
  api::PathParams params_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(api::HttpApiImpl& impl) : impl_(impl) {}

  Poco::Net::HTTPRequestHandler*
  createRequestHandler(const Poco::Net::HTTPServerRequest& request) override {
    if (!impl_.ownHandlers_.empty()) {
      const auto& uri = request.getURI();
      auto match = impl_.ownRouter_.match(request.getMethod(),
                                          std::string_view(uri).substr(0, uri.find('?')));
      if (match.outcome == api::RouteMatch::Outcome::Found) {
        return new OwnRequestHandler(impl_, match.route->index, std::move(match.params));
      }
    }
    if (!impl_.staticFiles_.empty()) {
      const auto& uri = request.getURI();
      if (const auto* folder =
              impl_.staticFiles_.match(std::string_view(uri).substr(0, uri.find('?')))) {
        return new StaticRequestHandler(impl_, *folder);
      }
    }
    if (!impl_.upgradeHandlers_.empty() && lower(request.get("Upgrade", "")) == "websocket") {
      const auto& uri = request.getURI();
      auto match = impl_.upgradeRouter_.match(request.getMethod(),
                                              std::string_view(uri).substr(0, uri.find('?')));
      if (match.outcome == api::RouteMatch::Outcome::Found) {
        return new UpgradeRequestHandler(impl_, match.route->index, std::move(match.params));
      }
    }
    return new ApiRequestHandler(impl_);
  }

 private:
  api::HttpApiImpl& impl_;
};

} // namespace

api::HttpApiImpl::HttpApiImpl(Service& service, MetricsRegistry& registry, Logger& logger,
                              ApiOptions options)
    : service_(service), registry_(registry), logger_(logger), options_(std::move(options)),
      authenticator_(options_.keys, options_.tokenSecret, options_.tokenLifetime),
      context_{service_, registry_, authenticator_, options_.metricsNeedKey,
               options_.attachmentBytes},
      staticFiles_(options_.staticFolders),
      requests_(registry.counterFamily("switchboard_http_requests_total",
                                       "HTTP requests answered, by route, method and status.",
                                       {"route", "method", "status"})),
      latency_(registry.histogramFamily("switchboard_http_request_duration_seconds",
                                        "Time from request to response, by route.", {"route"},
                                        latencyBuckets())),
      handlerErrors_(registry.counterFamily(
          "switchboard_http_handler_errors_total",
          "Requests whose handler failed unexpectedly (answered 500).", {"route"})),
      authFailures_(registry.counterFamily("switchboard_http_auth_failures_total",
                                           "Requests refused as not authenticated, by reason.",
                                           {"reason"})),
      inFlight_(registry.gauge("switchboard_http_requests_in_flight",
                               "HTTP requests being handled now.")) {
  if (options_.threads < 1) {
    throw std::invalid_argument("the REST API needs at least one thread");
  }
  if (options_.maxBodyBytes == 0) {
    throw std::invalid_argument("the REST API's body limit must be positive");
  }
  api::addEndpoints(router_, context_);
}

Principal api::HttpApiImpl::authenticate(const Poco::Net::HTTPServerRequest& request,
                                         api::Access access,
                                         std::optional<std::string> queryCredential) {
  if (access == api::Access::Public) {
    return {};
  }
  auto now = std::chrono::system_clock::now();
  auto header = request.get("Authorization", "");
  auto result = header.empty() && queryCredential
                    ? authenticator_.authenticateCredential(*queryCredential, now)
                    : authenticator_.authenticate(header, now);
  if (!result.principal) {
    static constexpr std::array<std::string_view, 5> kReasons{"missing", "malformed", "unknownKey",
                                                              "badToken", "expired"};
    authFailures_.with({std::string(kReasons[static_cast<std::size_t>(result.failure)])}).inc();
    throw ApiError(ApiErrorCode::Unauthorized,
                   std::string(api::Authenticator::describe(result.failure)))
        .withHeader("WWW-Authenticate", api::Authenticator::challenge(result.failure));
  }
  if (access == api::Access::Integrator && !result.principal->integrator()) {
    throw ApiError(ApiErrorCode::Forbidden, "this endpoint needs an integrator key");
  }
  return std::move(*result.principal);
}

std::string api::HttpApiImpl::readBody(Poco::Net::HTTPServerRequest& request,
                                       Poco::Net::HTTPServerResponse& response, bool& close) {
  std::string body;
  if (!hasBody(request)) {
    return body;
  }
  auto tooLarge = [&] {
    close = true;
    return ApiError(ApiErrorCode::PayloadTooLarge,
                    "the body is larger than " + std::to_string(options_.maxBodyBytes) + " bytes");
  };
  if (request.hasContentLength()) {
    auto length = request.getContentLength64();
    if (length > static_cast<Poco::Int64>(options_.maxBodyBytes)) {
      throw tooLarge();
    }
    body.reserve(static_cast<std::size_t>(length));
  }
  if (request.getExpectContinue()) {
    response.sendContinue();
  }
  std::istream& in = request.stream();
  char buffer[16384];
  while (in) {
    in.read(buffer, sizeof buffer);
    auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) {
      break;
    }
    if (body.size() + got > options_.maxBodyBytes) {
      throw tooLarge();
    }
    body.append(buffer, got);
  }
  return body;
}

ApiResponse api::HttpApiImpl::run(const api::Route& route, const ApiRequest& request) {
  try {
    return route.endpoint(request);
  } catch (const ApiError& error) {
    return problemResponse(error, request.path);
  }
}

std::optional<ApiResponse> api::HttpApiImpl::beginIdempotent(const ApiRequest& request,
                                                             const std::string& target,
                                                             Idempotent& idempotent) {
  const auto& key = request.idempotencyKey;
  bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  if (key.size() > kMaxIdempotencyKeyBytes || !printable) {
    throw ApiError(ApiErrorCode::BadRequest,
                   "the Idempotency-Key must be 1 to 255 visible ASCII characters");
  }
  idempotent.key =
      (request.principal.agent() ? "agent:" : "key:") + request.principal.id + ":" + key;
  idempotent.requestHash =
      api::hex(api::sha256(request.method + " " + target + "\n" + request.body));
  if (auto stored = service_.storedResponse(idempotent.key)) {
    if (stored->requestHash != idempotent.requestHash) {
      throw ApiError(ApiErrorCode::IdempotencyMismatch,
                     "the Idempotency-Key '" + key + "' was used for a different request");
    }
    ApiResponse replay;
    replay.status = stored->status;
    replay.contentType = stored->contentType;
    replay.body = stored->body;
    replay.headers.emplace_back("Idempotent-Replayed", "true");
    return replay;
  }
  std::lock_guard lock(idempotencyMutex_);
  if (!idempotencyInFlight_.insert(idempotent.key).second) {
    throw ApiError(ApiErrorCode::IdempotencyInFlight,
                   "a request with the Idempotency-Key '" + key + "' is still in progress");
  }
  return std::nullopt;
}

void api::HttpApiImpl::endIdempotent(const Idempotent& idempotent) {
  std::lock_guard lock(idempotencyMutex_);
  idempotencyInFlight_.erase(idempotent.key);
}

std::optional<StoredResponse> api::HttpApiImpl::toStore(const Idempotent& idempotent,
                                                        const ApiResponse& response) {
  if (response.status >= 500) {
    return std::nullopt;
  }
  StoredResponse stored;
  stored.key = idempotent.key;
  stored.requestHash = idempotent.requestHash;
  stored.status = response.status;
  stored.contentType = response.contentType;
  stored.body = response.body;
  stored.time =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return stored;
}

ApiResponse api::HttpApiImpl::runIdempotent(const api::Route& route, const ApiRequest& request,
                                            const Idempotent& idempotent) {
  struct Release {
    HttpApiImpl& impl;
    const Idempotent& idempotent;
    ~Release() { impl.endIdempotent(idempotent); }
  } release{*this, idempotent};
  ApiResponse response = run(route, request);
  if (auto stored = toStore(idempotent, response)) {
    try {
      service_.storeResponse(*stored);
    } catch (const std::exception& e) {
      logger_.warn("http.idempotency_store_failed",
                   {{"route", route.pattern}, {"error", e.what()}});
    }
  }
  return response;
}

std::optional<ApiResponse> api::HttpApiImpl::process(Poco::Net::HTTPServerRequest& request,
                                                     Poco::Net::HTTPServerResponse& raw,
                                                     const api::Route*& route, bool& close,
                                                     std::string& path,
                                                     std::chrono::steady_clock::time_point start) {
  const std::string& target = request.getURI();
  auto queryStart = target.find('?');
  path = target.substr(0, queryStart);
  close = hasBody(request); // until the body is read, an early answer must end the connection
  auto match = router_.match(request.getMethod(), path);
  if (match.outcome == api::RouteMatch::Outcome::NoRoute) {
    throw ApiError(ApiErrorCode::NoRoute, "no endpoint at " + path);
  }
  if (match.outcome == api::RouteMatch::Outcome::WrongMethod) {
    throw ApiError(ApiErrorCode::MethodNotAllowed, request.getMethod() + " is not allowed on " +
                                                       path + "; allowed: " + match.allowed)
        .withHeader("Allow", match.allowed);
  }
  route = match.route;

  ApiRequest call;
  call.principal = authenticate(request, route->access);
  call.method = request.getMethod();
  call.path = path;
  call.params = std::move(match.params);
  if (queryStart != std::string::npos) {
    try {
      Poco::URI uri(target);
      for (auto& parameter : uri.getQueryParameters()) {
        call.query.emplace_back(std::move(parameter));
      }
    } catch (const Poco::Exception&) {
      throw ApiError(ApiErrorCode::BadRequest, "the query string is not valid");
    }
  }
  call.body = readBody(request, raw, close);
  close = false;
  if (!call.body.empty() && route->body != api::BodyKind::None &&
      !acceptsMediaType(route->body, mediaType(request.getContentType()))) {
    throw ApiError(ApiErrorCode::UnsupportedMediaType,
                   "this endpoint reads " +
                       std::string(route->body == api::BodyKind::Json ? "application/json"
                                                                      : "application/xml") +
                       ", not '" + request.getContentType() + "'");
  }
  call.idempotencyKey = request.get("Idempotency-Key", "");
  if (call.method == "POST" && route->replayable && request.has("Idempotency-Key")) {
    Idempotent idempotent;
    if (auto replay = beginIdempotent(call, target, idempotent)) {
      return replay;
    }
    if (route->deferred) {
      // The endpoint's commit and then the answer's are waited for without the worker.
      if (auto parked = api::HttpConnections::defer()) {
        runDeferred(*route, call, raw, start, std::move(parked), std::move(idempotent));
        return std::nullopt;
      }
    }
    return runIdempotent(*route, call, idempotent);
  }
  // A deferred endpoint lets the worker go while it waits (for a commit, say), where the
  // connection can wait without it.
  if (route->deferred) {
    if (auto parked = api::HttpConnections::defer()) {
      runDeferred(*route, call, raw, start, std::move(parked));
      return std::nullopt;
    }
  }
  return run(*route, call);
}

void api::HttpApiImpl::runDeferred(const api::Route& route, const ApiRequest& request,
                                   Poco::Net::HTTPServerResponse& response,
                                   std::chrono::steady_clock::time_point start,
                                   std::shared_ptr<api::HttpConnections::Parked> parked,
                                   std::optional<Idempotent> idempotent) {
  // Runs once, on whichever thread has the answer; the response object lives until resume().
  auto finish = [this, &route, &response, method = request.method, start,
                 parked = std::move(parked)](ApiResponse content) {
    // Counted before it is sent, as in handle().
    count(route.pattern, method, content.status, start);
    try {
      send(response, content, false);
    } catch (const std::exception& error) {
      logger_.debug("http.send_failed", {{"error", error.what()}});
    }
    inFlight_.sub(1);
    --active_;
    parked->resume();
  };
  std::function<void(ApiResponse)> answer = finish;
  if (idempotent) {
    // The answer is stored for replays before it is sent, as runIdempotent() does, and the
    // worker is not held for that commit either.
    answer = [this, &route, finish, idempotent = std::move(*idempotent),
              post = connections_->poster()](ApiResponse content) {
      std::optional<StoredResponse> stored = toStore(idempotent, content);
      if (!stored) {
        endIdempotent(idempotent);
        finish(std::move(content));
        return;
      }
      auto kept = std::make_shared<ApiResponse>(std::move(content));
      service_.storeResponseAsync(
          *stored, post,
          [this, &route, finish, idempotent, kept](const std::optional<std::string>& failure) {
            if (failure) {
              logger_.warn("http.idempotency_store_failed",
                           {{"route", route.pattern}, {"error", *failure}});
            }
            endIdempotent(idempotent);
            finish(std::move(*kept));
          });
    };
  }
  api::Responder responder{connections_->poster(), answer};
  try {
    route.deferred(request, std::move(responder));
  } catch (const ApiError& error) {
    answer(problemResponse(error, request.path));
  } catch (const std::exception& error) {
    handlerErrors_.with({route.pattern}).inc();
    logger_.error("http.handler_failed",
                  {{"method", request.method}, {"route", route.pattern}, {"error", error.what()}});
    answer(problemResponse(ApiError(ApiErrorCode::Internal,
                                    "the server could not complete the request; the cause "
                                    "is in its log"),
                           request.path));
  }
}

void api::HttpApiImpl::send(Poco::Net::HTTPServerResponse& response, const ApiResponse& content,
                            bool close) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(content.status));
  if (!content.contentType.empty()) {
    response.setContentType(content.contentType);
  }
  response.set("Cache-Control", "no-store");
  for (const auto& [name, value] : content.headers) {
    response.set(name, value);
  }
  if (close) {
    response.setKeepAlive(false);
  }
  response.setContentLength64(static_cast<Poco::Int64>(content.body.size()));
  response.sendBuffer(content.body.data(), content.body.size());
}

void api::HttpApiImpl::count(std::string_view route, const std::string& method, int status,
                             std::chrono::steady_clock::time_point start) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string routeLabel(route);
  // Methods come from the client: anything unusual shares one label, so that no client can
  // grow the metrics without bound.
  static constexpr std::array<std::string_view, 7> kMethods{"GET",   "PUT",  "POST",   "DELETE",
                                                            "PATCH", "HEAD", "OPTIONS"};
  bool known = std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end();
  requests_.with({routeLabel, known ? method : "other", std::to_string(status)}).inc();
  latency_.with({routeLabel}).observe(seconds);
  if (logger_.enabled(LogLevel::Debug)) {
    logger_.debug(
        "http.request",
        {{"method", method}, {"route", routeLabel}, {"status", status}, {"ms", seconds * 1000.0}});
  }
}

void api::HttpApiImpl::handle(Poco::Net::HTTPServerRequest& request,
                              Poco::Net::HTTPServerResponse& response) {
  auto start = std::chrono::steady_clock::now();
  ++active_;
  inFlight_.add(1);
  const api::Route* route = nullptr;
  bool close = false;
  std::string path;
  ApiResponse content;
  try {
    std::optional<ApiResponse> answered = process(request, response, route, close, path, start);
    if (!answered) {
      return; // runDeferred() answers, counts and ends the request
    }
    content = std::move(*answered);
  } catch (const ApiError& error) {
    content = problemResponse(error, path);
  } catch (const std::exception& error) {
    std::string label(route != nullptr ? std::string_view(route->pattern) : kUnmatchedRoute);
    handlerErrors_.with({label}).inc();
    logger_.error("http.handler_failed",
                  {{"method", request.getMethod()}, {"route", label}, {"error", error.what()}});
    content = problemResponse(ApiError(ApiErrorCode::Internal,
                                       "the server could not complete the request; the cause "
                                       "is in its log"),
                              path);
  } catch (...) {
    std::string label(route != nullptr ? std::string_view(route->pattern) : kUnmatchedRoute);
    handlerErrors_.with({label}).inc();
    logger_.error("http.handler_failed", {{"method", request.getMethod()}, {"route", label}});
    content = problemResponse(ApiError(ApiErrorCode::Internal,
                                       "the server could not complete the request; the cause "
                                       "is in its log"),
                              path);
  }
  // Counted before it is sent: a client that has its answer finds it in /metrics (counted after,
  // a scrape right after the answer could miss it). The duration is the time to the answer.
  count(route != nullptr ? std::string_view(route->pattern) : kUnmatchedRoute, request.getMethod(),
        content.status, start);
  try {
    send(response, content, close);
  } catch (const std::exception& error) {
    logger_.debug("http.send_failed", {{"error", error.what()}});
  }
  inFlight_.sub(1);
  --active_;
}

void api::HttpApiImpl::handleUpgrade(std::size_t index, api::PathParams params,
                                     Poco::Net::HTTPServerRequest& request,
                                     Poco::Net::HTTPServerResponse& response) {
  auto start = std::chrono::steady_clock::now();
  const auto& route = upgradeRouter_.routes()[index];
  ++active_;
  inFlight_.add(1);
  int status = 101;
  try {
    UpgradeContext context;
    std::optional<std::string> queryCredential;
    const auto& target = request.getURI();
    if (target.find('?') != std::string::npos) {
      for (auto& [name, value] : Poco::URI(target).getQueryParameters()) {
        if (name == "access_token") {
          queryCredential = value;
        }
      }
    }
    context.principal = authenticate(request, route.access, queryCredential);
    for (const auto& [name, value] : params) {
      if (name == "id" && context.principal.agent() && context.principal.id != value) {
        throw ApiError(ApiErrorCode::Forbidden, "this token is for agent '" + context.principal.id +
                                                    "', not '" + value + "'");
      }
    }
    context.params = std::move(params);
    upgradeHandlers_[index](request, response, context);
    status = static_cast<int>(response.getStatus());
  } catch (const ApiError& error) {
    auto content = problemResponse(error, route.pattern);
    status = content.status;
    try {
      send(response, content, true);
    } catch (const std::exception&) {
    }
  } catch (const std::exception& error) {
    handlerErrors_.with({route.pattern}).inc();
    logger_.error("http.upgrade_failed", {{"route", route.pattern}, {"error", error.what()}});
    status = 500;
    if (!response.sent()) {
      try {
        send(response,
             problemResponse(ApiError(ApiErrorCode::Internal, "upgrade failed"), route.pattern),
             true);
      } catch (const std::exception&) {
      }
    }
  }
  count(route.pattern, request.getMethod(), status, start);
  inFlight_.sub(1);
  --active_;
}

void api::HttpApiImpl::handleStatic(const StaticFolder& folder,
                                    Poco::Net::HTTPServerRequest& request,
                                    Poco::Net::HTTPServerResponse& response) {
  auto start = std::chrono::steady_clock::now();
  ++active_;
  inFlight_.add(1);
  int status = 500;
  std::string path = request.getURI().substr(0, request.getURI().find('?'));
  try {
    status = staticFiles_.serve(folder, request, response);
  } catch (const ApiError& error) {
    auto content = problemResponse(error, path);
    status = content.status;
    try {
      send(response, content, false);
    } catch (const std::exception&) {
    }
  } catch (const std::exception& error) {
    // Mostly a client that went away in the middle of a file.
    logger_.debug("http.static_failed", {{"path", path}, {"error", error.what()}});
    if (!response.sent()) {
      try {
        send(response,
             problemResponse(ApiError(ApiErrorCode::Internal, "the file could not be sent"), path),
             true);
      } catch (const std::exception&) {
      }
    }
  }
  count(folder.urlPrefix, request.getMethod(), status, start);
  inFlight_.sub(1);
  --active_;
}

void api::HttpApiImpl::handleOwn(std::size_t index, api::PathParams params,
                                 Poco::Net::HTTPServerRequest& request,
                                 Poco::Net::HTTPServerResponse& response) {
  auto start = std::chrono::steady_clock::now();
  const auto& route = ownRouter_.routes()[index];
  ++active_;
  inFlight_.add(1);
  int status = 500;
  try {
    UpgradeContext context;
    context.params = std::move(params);
    ownHandlers_[index](request, response, context);
    status = static_cast<int>(response.getStatus());
  } catch (const std::exception& error) {
    handlerErrors_.with({route.pattern}).inc();
    logger_.error("http.handler_failed", {{"route", route.pattern}, {"error", error.what()}});
    if (!response.sent()) {
      try {
        send(response,
             problemResponse(ApiError(ApiErrorCode::Internal,
                                      "the server could not complete the request; the cause "
                                      "is in its log"),
                             route.pattern),
             true);
      } catch (const std::exception&) {
      }
    }
  }
  count(route.pattern, request.getMethod(), status, start);
  inFlight_.sub(1);
  --active_;
}

HttpApi::HttpApi(Service& service, MetricsRegistry& metrics, Logger& logger, ApiOptions options)
    : impl_(std::make_unique<api::HttpApiImpl>(service, metrics, logger, std::move(options))) {}

HttpApi::~HttpApi() {
  stop();
}

void HttpApi::addUpgradeRoute(std::string pattern, UpgradeHandler handler) {
  std::lock_guard lock(impl_->lifecycleMutex_);
  if (impl_->started_) {
    throw std::logic_error("addUpgradeRoute() after start()");
  }
  impl_->upgradeRouter_.add("GET", std::move(pattern), api::Access::Authenticated,
                            api::BodyKind::None, nullptr);
  impl_->upgradeHandlers_.push_back(std::move(handler));
}

std::string RouteRequest::param(const std::string& name) const {
  for (const auto& [key, value] : params) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

void HttpApi::addRoute(std::string method, std::string pattern, RouteHandler handler) {
  std::lock_guard lock(impl_->lifecycleMutex_);
  if (impl_->started_) {
    throw std::logic_error("addRoute() after start()");
  }
  api::BodyKind body = method == "POST" ? api::BodyKind::Json : api::BodyKind::None;
  impl_->router_.add(std::move(method), std::move(pattern), api::Access::Integrator, body,
                     [handler = std::move(handler)](const api::ApiRequest& request) {
                       RouteRequest call{request.principal, request.params, request.body};
                       RouteResponse answer;
                       try {
                         answer = handler(call);
                       } catch (const RouteError& e) {
                         api::ApiErrorCode code = e.status() == 404 ? api::ApiErrorCode::NotFound
                                                  : e.status() == 409
                                                      ? api::ApiErrorCode::Conflict
                                                      : api::ApiErrorCode::BadRequest;
                         throw api::ApiError(code, e.what());
                       }
                       api::ApiResponse response;
                       response.status = answer.status;
                       response.body = std::move(answer.body);
                       return response;
                     });
}

namespace {

// Poco's SSL library keeps global state (the SSLManager) that must be set up once per process.
void initializeTlsOnce() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

Poco::Net::ServerSocket listen(const std::string& address, std::uint16_t port,
                               const std::optional<ApiTls>& tls) {
  std::string where = address + ":" + std::to_string(port);
  try {
    if (!tls) {
      Poco::Net::ServerSocket socket;
      // SO_REUSEADDR for quick restarts, never SO_REUSEPORT: a second server on a busy port
      // must fail, not share it.
      socket.bind(Poco::Net::SocketAddress(address, port), true, false);
      socket.listen(256);
      return socket;
    }
    initializeTlsOnce();
    Poco::Net::Context::Ptr context = new Poco::Net::Context(
        Poco::Net::Context::TLS_SERVER_USE, tls->keyFile, tls->certificateFile, "",
        Poco::Net::Context::VERIFY_NONE, 9, false, "HIGH:!aNULL:!MD5:!RC4:@STRENGTH");
    context->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                              Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    context->enableSessionCache(true, "switchboard");
    Poco::Net::SecureServerSocket socket(context);
    socket.bind(Poco::Net::SocketAddress(address, port), true, false);
    socket.listen(256);
    return socket;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error(std::string("REST API cannot listen on ") +
                             (tls ? "https://" : "http://") + where + ": " + e.displayText());
  }
}

std::string urlOf(const std::string& address, const Poco::Net::ServerSocket& socket, bool tls) {
  return (tls ? "https://" : "http://") + address + ":" + std::to_string(socket.address().port());
}

} // namespace

void HttpApi::addOwnRoute(std::string method, std::string pattern, UpgradeHandler handler) {
  std::lock_guard lock(impl_->lifecycleMutex_);
  if (impl_->started_) {
    throw std::logic_error("addOwnRoute() after start()");
  }
  impl_->ownRouter_.add(std::move(method), std::move(pattern), api::Access::Public,
                        api::BodyKind::None, nullptr);
  impl_->ownHandlers_.push_back(std::move(handler));
}

void HttpApi::start() {
  std::lock_guard lock(impl_->lifecycleMutex_);
  if (impl_->started_) {
    return;
  }
  const auto& options = impl_->options_;
  // Bind everything before serving anything: a listener that cannot bind stops the start whole.
  struct Bound {
    Poco::Net::ServerSocket socket;
    bool tls = false;
  };
  std::vector<Bound> sockets;
  std::vector<std::string> urls;
  sockets.push_back({listen(options.address, options.port, options.tls), options.tls.has_value()});
  urls.push_back(urlOf(options.address, sockets.back().socket, sockets.back().tls));
  for (const ApiListener& more : options.moreListeners) {
    sockets.push_back({listen(more.address, more.port, more.tls), more.tls.has_value()});
    urls.push_back(urlOf(more.address, sockets.back().socket, sockets.back().tls));
  }
  auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
  params->setMaxThreads(options.threads);
  params->setMaxQueued(options.maxQueued);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(options.keepAliveTimeout.count(), 0));
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory = new HandlerFactory(*impl_);
  std::vector<Poco::Net::ServerSocket> plain;
  std::size_t tls = 0;
  for (const Bound& bound : sockets) {
    if (bound.tls) {
      ++tls;
    } else {
      plain.push_back(bound.socket);
    }
  }
  if (!plain.empty()) {
    auto& open = impl_->registry_.gauge("switchboard_http_connections",
                                        "Open HTTP connections on the listeners without TLS.");
    impl_->connections_ = std::make_unique<api::HttpConnections>(
        std::move(plain), params, factory,
        api::HttpConnections::Options{options.threads, options.drainTimeout},
        api::HttpConnections::Observer{[&open](int delta) { open.add(delta); }});
    impl_->connections_->start();
  }
  if (tls > 0) {
    impl_->pool_ = std::make_unique<Poco::ThreadPool>(std::min(2, options.threads),
                                                      options.threads + 2 * static_cast<int>(tls));
    for (const Bound& bound : sockets) {
      if (bound.tls) {
        auto server =
            std::make_unique<Poco::Net::HTTPServer>(factory, *impl_->pool_, bound.socket, params);
        server->start();
        impl_->tlsServers_.push_back(std::move(server));
      }
    }
  }
  impl_->started_ = true;
  impl_->urls_ = std::move(urls);
  impl_->port_ = sockets.front().socket.address().port();
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    impl_->logger_.info("http.started", {{"url", impl_->urls_[i]},
                                         {"port", sockets[i].socket.address().port()},
                                         {"threads", options.threads},
                                         {"keys", impl_->options_.keys.size()},
                                         {"agentTokens", impl_->authenticator_.tokensEnabled()}});
  }
}

void HttpApi::stop() {
  std::lock_guard lock(impl_->lifecycleMutex_);
  if (!impl_->started_) {
    return;
  }
  if (impl_->connections_) {
    impl_->connections_->stopAccepting();
  }
  for (auto& server : impl_->tlsServers_) {
    server->stop();
  }
  auto deadline = std::chrono::steady_clock::now() + impl_->options_.drainTimeout;
  while (impl_->active_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (impl_->connections_) {
    impl_->connections_->stopAll();
    impl_->connections_.reset();
  }
  for (auto& server : impl_->tlsServers_) {
    server->stopAll(true);
  }
  if (impl_->pool_) {
    impl_->pool_->joinAll();
  }
  impl_->tlsServers_.clear();
  impl_->urls_.clear();
  impl_->pool_.reset();
  impl_->started_ = false;
  impl_->logger_.info("http.stopped", {{"port", impl_->port_}});
  impl_->port_ = 0;
}

std::uint16_t HttpApi::port() const {
  return impl_->port_;
}

std::vector<std::string> HttpApi::urls() const {
  std::lock_guard lock(impl_->lifecycleMutex_);
  return impl_->urls_;
}

std::vector<std::pair<std::string, std::string>> HttpApi::routes() const {
  std::vector<std::pair<std::string, std::string>> routes;
  for (const auto& route : impl_->router_.routes()) {
    routes.emplace_back(route.method, route.pattern);
  }
  for (const auto& route : impl_->upgradeRouter_.routes()) {
    routes.emplace_back(route.method, route.pattern);
  }
  for (const auto& route : impl_->ownRouter_.routes()) {
    routes.emplace_back(route.method, route.pattern);
  }
  return routes;
}

} // namespace switchboard
