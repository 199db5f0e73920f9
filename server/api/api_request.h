#pragma once

// What an endpoint function sees of a request, and what it returns.

#include "api_error.h"
#include "switchboard/http_api.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::api {

using PathParams = std::vector<std::pair<std::string, std::string>>;

struct ApiRequest {
  std::string method;
  std::string path; ///< without the query
  PathParams params;
  std::vector<std::pair<std::string, std::string>> query; ///< decoded, in order
  std::string body;
  std::string idempotencyKey; ///< empty when the header is absent
  Principal principal;

  /// The value of path parameter `name` (decoded). Throws std::logic_error when the route has
  /// no such parameter, which is a defect of the route table.
  const std::string& param(std::string_view name) const;
  /// The first query parameter `name`, if present.
  std::optional<std::string> queryValue(std::string_view name) const;
};

struct ApiResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The RFC 9457 answer to `error` for the resource at `instance`.
ApiResponse problemResponse(const ApiError& error, std::string_view instance);

} // namespace switchboard::api
