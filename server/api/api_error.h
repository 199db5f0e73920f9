#pragma once

// The one mapping from kinds of failure to HTTP statuses and RFC 9457 problem types. Every error
// response the REST API writes goes through problemKind().

#include "switchboard/service.h"

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::api {

enum class ApiErrorCode {
  BadRequest,           ///< malformed or schema-wrong input
  Unauthorized,         ///< no credentials, or credentials that are not valid
  Forbidden,            ///< valid credentials that may not do this
  NotFound,             ///< the resource named does not exist
  NoRoute,              ///< no endpoint has this path
  MethodNotAllowed,     ///< the path exists, the method does not
  Conflict,             ///< the resource is not in a state that allows this
  IdempotencyInFlight,  ///< a request with the same Idempotency-Key is still running
  IdempotencyMismatch,  ///< the Idempotency-Key was used for a different request
  PayloadTooLarge,      ///< the body is over the configured limit
  UnsupportedMediaType, ///< the body is not in a media type this endpoint reads
  Unavailable,          ///< not ready, or a dependency is down
  Internal,             ///< a defect; never shows its cause to the caller
};

struct ProblemKind {
  int status = 500;
  std::string_view type;  ///< the problem type URI
  std::string_view title; ///< the default title
};

/// The status, problem type and default title of each kind. The single source of truth.
const ProblemKind& problemKind(ApiErrorCode code);

/// The API kind of a Service failure: BadRequest 400, NotFound 404, Conflict 409,
/// Unavailable 503, Internal 500.
ApiErrorCode fromService(ServiceErrorCode code);

/// Thrown by endpoint functions; the dispatcher turns it into a problem response.
class ApiError : public std::runtime_error {
 public:
  ApiError(ApiErrorCode code, std::string detail, std::string title = {})
      : std::runtime_error(detail), code_(code), title_(std::move(title)),
        detail_(std::move(detail)) {}

  /// A response header to send with the problem (Allow, WWW-Authenticate).
  ApiError& withHeader(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  ApiErrorCode code() const { return code_; }
  /// The title to show: the one given, or the kind's default.
  std::string_view title() const;
  const std::string& detail() const { return detail_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  ApiErrorCode code_;
  std::string title_;
  std::string detail_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

/// The ApiError that stands for a Service failure.
ApiError toApiError(const ServiceError& error);

/// The value of `result`, or throws the ApiError of its failure.
template <class T>
T unwrap(ServiceResult<T>&& result) {
  if (!result.ok()) {
    throw toApiError(result.error());
  }
  return std::move(result).value();
}

/// The problem document (application/problem+json) for `error` at `instance` (the request path).
std::string problemJson(const ApiError& error, std::string_view instance);

inline constexpr std::string_view kProblemContentType = "application/problem+json";

} // namespace switchboard::api
