#include "api_request.h"

#include <stdexcept>

namespace switchboard::api {

const std::string& ApiRequest::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) {
      return value;
    }
  }
  throw std::logic_error("route has no parameter " + std::string(name));
}

std::optional<std::string> ApiRequest::queryValue(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) {
      return value;
    }
  }
  return std::nullopt;
}

ApiResponse problemResponse(const ApiError& error, std::string_view instance) {
  ApiResponse response;
  response.status = problemKind(error.code()).status;
  response.contentType = kProblemContentType;
  response.body = problemJson(error, instance);
  response.headers = error.headers();
  return response;
}

} // namespace switchboard::api
