#pragma once

// The web hooks' REST endpoints (docs/rest-api.md, "Web hooks"), for integrator keys:
//   GET  /v1/webhooks                 every hook with its position, counts and last error
//   POST /v1/webhooks/{name}/replay   {"from": "2026-11-21T10:00:00Z"}: deliver again from then

#include "webhook_dispatcher.h"

#include "switchboard/http_api.h"

#include <memory>
#include <vector>

namespace switchboard::webhooks {

/// Adds the endpoints to `api` (before it starts). `hooks` must outlive `api`.
void addWebhookRoutes(HttpApi& api, const std::vector<std::unique_ptr<WebhookDispatcher>>& hooks);

} // namespace switchboard::webhooks
