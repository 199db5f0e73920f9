#pragma once

// Maps a method and a path to one endpoint function. Patterns are literal segments and
// {name} segments ("/v1/work-items/{id}/accept"); a {name} segment matches one non-empty
// segment, which the endpoint reads with ApiRequest::param().

#include "api_request.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::api {

/// Who may call an endpoint. Agent tokens reach Authenticated endpoints, which check that the
/// agent asks only about itself and its own items.
enum class Access { Public, Authenticated, Integrator };

/// What the endpoint reads from the body, and so which Content-Type it accepts.
enum class BodyKind { None, Json, Xml };

using Endpoint = std::function<ApiResponse(const ApiRequest&)>;

/// How a deferred endpoint answers: `respond` exactly once, from any thread, with the answer;
/// `post` runs a task on the server's request threads (for work that must not run on the
/// thread that completes a wait, such as the store's committer).
struct Responder {
  std::function<void(std::function<void()>)> post;
  std::function<void(ApiResponse)> respond;
};

/// An endpoint that may answer after it returns. It throws ApiError, as an Endpoint does, for
/// what it refuses at once.
using DeferredEndpoint = std::function<void(const ApiRequest&, Responder)>;

struct Route {
  std::string method;
  std::string pattern;
  Access access = Access::Authenticated;
  BodyKind body = BodyKind::None;
  Endpoint endpoint;
  /// The same endpoint without holding a thread while it waits (for the store, say); used
  /// where the connection can wait without its thread, `endpoint` elsewhere.
  DeferredEndpoint deferred;
  bool replayable = true;
  std::size_t index = 0;             ///< position in Router::routes()
  std::vector<std::string> segments; ///< the pattern split at '/'; "{name}" for parameters
};

struct RouteMatch {
  enum class Outcome { Found, NoRoute, WrongMethod };
  Outcome outcome = Outcome::NoRoute;
  const Route* route = nullptr;
  PathParams params;
  std::string allowed; ///< for WrongMethod: the methods the path has, "GET, POST"
};

class Router {
 public:
  /// Adds an endpoint. Throws std::invalid_argument for a pattern that does not start with '/'
  /// or a method and pattern added before.
  /// `replayable`: a POST with an Idempotency-Key stores its response for replay (off for
  /// responses that must not be stored, such as issued tokens).
  void add(std::string method, std::string pattern, Access access, BodyKind body, Endpoint endpoint,
           bool replayable = true);

  /// Gives the route added as `method` `pattern` its deferred form. Throws
  /// std::invalid_argument when there is no such route.
  void defer(std::string_view method, std::string_view pattern, DeferredEndpoint endpoint);

  RouteMatch match(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

  /// Splits "/a/b/c" into {"a", "b", "c"}; an empty path or a trailing slash gives an empty
  /// last segment.
  static std::vector<std::string_view> split(std::string_view path);

 private:
  static bool matches(const Route& route, const std::vector<std::string_view>& segments,
                      PathParams* params);

  std::vector<Route> routes_;
};

} // namespace switchboard::api
