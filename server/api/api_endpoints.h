#pragma once

// The REST API's endpoints: one function each, added to a Router.

#include "authenticator.h"
#include "router.h"
#include "switchboard/metrics.h"
#include "switchboard/service.h"

namespace switchboard::api {

struct EndpointContext {
  Service& service;
  MetricsRegistry& metrics;
  const Authenticator& authenticator;
  bool metricsNeedKey = false;
};

/// Adds every endpoint of docs/openapi.json to `router`. `context` must outlive the router.
void addEndpoints(Router& router, EndpointContext& context);

/// The OpenAPI document (docs/openapi.json), compiled into the program.
std::string_view openApiDocument();

} // namespace switchboard::api
