#include "api_error.h"

#include "switchboard/log.h"

#include <array>

namespace switchboard::api {

namespace {

// Indexed by ApiErrorCode.
constexpr std::array<ProblemKind, 13> kProblemKinds{{
    {400, "urn:switchboard:problem:bad-request", "Bad request"},
    {401, "urn:switchboard:problem:unauthorized", "Unauthorized"},
    {403, "urn:switchboard:problem:forbidden", "Forbidden"},
    {404, "urn:switchboard:problem:not-found", "Not found"},
    {404, "urn:switchboard:problem:no-route", "No such endpoint"},
    {405, "urn:switchboard:problem:method-not-allowed", "Method not allowed"},
    {409, "urn:switchboard:problem:conflict", "Conflict"},
    {409, "urn:switchboard:problem:idempotency-in-flight",
     "A request with this Idempotency-Key is in progress"},
    {422, "urn:switchboard:problem:idempotency-mismatch",
     "Idempotency-Key reused for a different request"},
    {413, "urn:switchboard:problem:payload-too-large", "Request body too large"},
    {415, "urn:switchboard:problem:unsupported-media-type", "Unsupported media type"},
    {503, "urn:switchboard:problem:unavailable", "Service unavailable"},
    {500, "urn:switchboard:problem:internal", "Internal error"},
}};

} // namespace

const ProblemKind& problemKind(ApiErrorCode code) {
  return kProblemKinds[static_cast<std::size_t>(code)];
}

ApiErrorCode fromService(ServiceErrorCode code) {
  switch (code) {
  case ServiceErrorCode::BadRequest:
    return ApiErrorCode::BadRequest;
  case ServiceErrorCode::NotFound:
    return ApiErrorCode::NotFound;
  case ServiceErrorCode::Conflict:
    return ApiErrorCode::Conflict;
  case ServiceErrorCode::Unavailable:
    return ApiErrorCode::Unavailable;
  case ServiceErrorCode::Internal:
    return ApiErrorCode::Internal;
  }
  return ApiErrorCode::Internal;
}

std::string_view ApiError::title() const {
  return title_.empty() ? problemKind(code_).title : std::string_view(title_);
}

ApiError toApiError(const ServiceError& error) {
  return ApiError(fromService(error.code), error.detail, error.title);
}

std::string problemJson(const ApiError& error, std::string_view instance) {
  const auto& kind = problemKind(error.code());
  std::string out;
  out.reserve(192 + error.detail().size());
  out += "{\"type\":\"";
  out += kind.type;
  out += "\",\"title\":\"";
  appendJsonEscaped(error.title(), out);
  out += "\",\"status\":";
  out += std::to_string(kind.status);
  out += ",\"detail\":\"";
  appendJsonEscaped(error.detail(), out);
  out += "\",\"instance\":\"";
  appendJsonEscaped(instance, out);
  out += "\"}";
  return out;
}

} // namespace switchboard::api
