#include "webhook_routes.h"

#include "switchboard/timestamp.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

namespace switchboard::webhooks {

namespace {

std::string text(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

Poco::JSON::Object describe(const WebhookStatus& status) {
  Poco::JSON::Object hook;
  hook.set("name", status.name);
  hook.set("url", status.url);
  hook.set("itemCursor", status.itemCursor);
  hook.set("agentCursor", status.agentCursor);
  hook.set("delivered", status.delivered);
  hook.set("failedAttempts", status.failedAttempts);
  hook.set("deadLettered", status.deadLettered);
  if (!status.lastError.empty()) {
    hook.set("lastError", status.lastError);
  }
  return hook;
}

Timestamp replayStart(const std::string& body) {
  Poco::JSON::Object::Ptr root;
  try {
    root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    throw RouteError(400, "the body must be a JSON object such as {\"from\": "
                          "\"2026-11-21T10:00:00Z\"}");
  }
  if (!root || !root->has("from") || !root->get("from").isString()) {
    throw RouteError(400, "'from' (a time with its zone, e.g. 2026-11-21T10:00:00Z) is required");
  }
  std::string from = root->getValue<std::string>("from");
  std::optional<Timestamp> time = parseTimestamp(from);
  if (!time) {
    throw RouteError(400, "'from' is not a time with its zone: '" + from + "'");
  }
  return *time;
}

} // namespace

void addWebhookRoutes(HttpApi& api, const std::vector<std::unique_ptr<WebhookDispatcher>>& hooks) {
  api.addRoute("GET", "/v1/webhooks", [&hooks](const RouteRequest&) {
    Poco::JSON::Array list;
    for (const auto& hook : hooks) {
      list.add(describe(hook->status()));
    }
    Poco::JSON::Object root;
    root.set("webhooks", list);
    return RouteResponse{200, text(root)};
  });
  api.addRoute("POST", "/v1/webhooks/{name}/replay", [&hooks](const RouteRequest& request) {
    std::string name = request.param("name");
    for (const auto& hook : hooks) {
      if (hook->name() == name) {
        Timestamp from = replayStart(request.body);
        hook->replayFrom(from);
        Poco::JSON::Object answer = describe(hook->status());
        answer.set("replayFrom", formatTimestamp(from));
        return RouteResponse{202, text(answer)};
      }
    }
    throw RouteError(404, "there is no web hook named '" + name + "'");
  });
}

} // namespace switchboard::webhooks
