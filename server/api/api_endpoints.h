#pragma once

// The REST API's endpoints: one function each, added to a Router.

#include "authenticator.h"
#include "router.h"
#include "switchboard/metrics.h"
#include "switchboard/service.h"

#include <functional>
#include <optional>
#include <string>

namespace switchboard::api {

struct EndpointContext {
  Service& service;
  MetricsRegistry& metrics;
  const Authenticator& authenticator;
  bool metricsNeedKey = false;
  /// The bytes of an attachment by digest (ApiOptions::attachmentBytes); may be empty.
  std::function<std::optional<std::string>(const std::string&)> attachmentBytes;
};

/// What an agent token may read: the work items offered to its agent or held by it now, and
/// nothing else. An integrator key reads everything.
bool visibleTo(const Principal& principal, const WorkItem& item);

/// GET /v1/work-items/{id}/attachments/{index}: the bytes of the item's attachment number
/// {index} (from 0), as a download (attachment_endpoint.cpp).
ApiResponse getAttachment(EndpointContext& context, const ApiRequest& request);

/// Adds every endpoint of docs/openapi.json to `router`. `context` must outlive the router.
void addEndpoints(Router& router, EndpointContext& context);

/// The OpenAPI document (docs/openapi.json), compiled into the program.
std::string_view openApiDocument();

} // namespace switchboard::api
