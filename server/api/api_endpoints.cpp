#include "api_endpoints.h"

#include "json_mapping.h"
#include "switchboard/timestamp.h"

#include <Poco/UUIDGenerator.h>

#include <chrono>

namespace switchboard {
namespace embedded {
std::string_view openApiDocument();
} // namespace embedded

namespace api {

namespace {

constexpr std::size_t kMaxListLimit = 1000;

/// A JSON answer written by `write(JsonWriter&)`.
template <class Write>
ApiResponse json(Write&& write, int status = 200) {
  ApiResponse response;
  response.status = status;
  JsonWriter writer(response.body);
  write(writer);
  return response;
}

/// One resource as a JSON answer.
template <class T, class... Options>
ApiResponse resource(const T& value, Options... options) {
  return json([&](JsonWriter& out) { writeJson(out, value, options...); });
}

/// {"key": [resource...]}
template <class T>
ApiResponse listOf(const char* key, const std::vector<T>& values) {
  return json([&](JsonWriter& out) {
    out.beginObject().key(key).beginArray();
    for (const auto& value : values) {
      writeJson(out, value);
    }
    out.endArray().endObject();
  });
}

[[noreturn]] void forbidden(std::string detail) {
  throw ApiError(ApiErrorCode::Forbidden, std::move(detail));
}

/// An agent token may only name its own agent.
void requireSelf(const ApiRequest& request, const std::string& agentId) {
  if (request.principal.agent() && request.principal.id != agentId) {
    forbidden("this token is for agent '" + request.principal.id + "', not '" + agentId + "'");
  }
}

/// The agent an action is taken for: the token's agent, or with an integrator key the "agent"
/// field of the body.
std::optional<std::string> actingAgent(const ApiRequest& request, JsonReader& reader,
                                       bool required) {
  auto named = reader.optString("agent");
  if (request.principal.agent()) {
    if (named && *named != request.principal.id) {
      forbidden("this token is for agent '" + request.principal.id + "', not '" + *named + "'");
    }
    return request.principal.id;
  }
  if (required && (!named || named->empty())) {
    reader.fail("agent", "required with an integrator key");
  }
  return named;
}

/// With an agent token, the work item must be offered to or held by that agent.
void requireOwnItem(Service& service, const ApiRequest& request, const std::string& itemId) {
  if (!request.principal.agent()) {
    return;
  }
  auto details = unwrap(service.workItem(itemId));
  if (details.stored.item.agentId != request.principal.id) {
    forbidden("work item '" + itemId + "' is not offered to or held by agent '" +
              request.principal.id + "'");
  }
}

std::size_t limitFrom(const ApiRequest& request) {
  auto text = request.queryValue("limit");
  if (!text) {
    return 100;
  }
  std::size_t limit = 0;
  bool digits = !text->empty() && text->size() <= 7 &&
                text->find_first_not_of("0123456789") == std::string::npos;
  if (digits) {
    limit = std::stoul(*text);
  }
  if (!digits || limit == 0 || limit > kMaxListLimit) {
    throw ApiError(ApiErrorCode::BadRequest,
                   "query parameter 'limit': expected an integer from 1 to 1000");
  }
  return limit;
}

void allowOnlyQuery(const ApiRequest& request, std::initializer_list<std::string_view> names) {
  for (const auto& [name, value] : request.query) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw ApiError(ApiErrorCode::BadRequest, "unknown query parameter '" + name + "'");
    }
  }
}

// ------------------------------------------------------------------------------ operations

ApiResponse healthz(const ApiRequest&) {
  return json([](JsonWriter& out) { out.beginObject().member("status", "ok").endObject(); });
}

ApiResponse readyz(EndpointContext& context, const ApiRequest&) {
  if (!context.service.ready()) {
    throw ApiError(ApiErrorCode::Unavailable, "the server is starting or its store is unreachable",
                   "Not ready");
  }
  return json([](JsonWriter& out) { out.beginObject().member("status", "ready").endObject(); });
}

ApiResponse metrics(EndpointContext& context, const ApiRequest&) {
  ApiResponse response;
  response.contentType = MetricsRegistry::kContentType;
  response.body = context.metrics.render();
  return response;
}

ApiResponse openApi(const ApiRequest&) {
  ApiResponse response;
  response.body = std::string(openApiDocument());
  return response;
}

// ---------------------------------------------------------------------------------- agents

ApiResponse listAgents(EndpointContext& context, const ApiRequest& request) {
  allowOnlyQuery(request, {});
  return listOf("agents", context.service.agents());
}

ApiResponse getAgent(EndpointContext& context, const ApiRequest& request) {
  const auto& id = request.param("id");
  requireSelf(request, id);
  return resource(unwrap(context.service.agent(id)));
}

ApiResponse putAgent(EndpointContext& context, const ApiRequest& request) {
  Agent profile = agentFromJson(parseObject(request.body, false), request.param("id"));
  return resource(unwrap(context.service.upsertAgent(profile)));
}

ApiResponse setAgentState(EndpointContext& context, const ApiRequest& request) {
  const auto& id = request.param("id");
  requireSelf(request, id);
  auto body = parseObject(request.body, false);
  JsonReader reader(body.root());
  auto state = enumFromJson<AgentState>(reader, "state", reader.string("state"));
  auto reason = reader.optString("reason");
  reader.done();
  if (state != AgentState::Ready && state != AgentState::NotReady &&
      state != AgentState::LoggedOut) {
    reader.fail("state", "expected ready, notReady or loggedOut; " + std::string(toString(state)) +
                             " is set by the server");
  }
  return resource(unwrap(context.service.setAgentState(id, state, reason)));
}

ApiResponse issueToken(EndpointContext& context, const ApiRequest& request) {
  const auto& id = request.param("id");
  auto body = parseObject(request.body, true);
  JsonReader reader(body.root());
  reader.done();
  if (!context.authenticator.tokensEnabled()) {
    throw ApiError(ApiErrorCode::Unavailable,
                   "agent tokens are not configured: the server has no token secret");
  }
  unwrap(context.service.agent(id));
  auto issued = context.authenticator.issue(id, std::chrono::system_clock::now());
  auto expires = std::chrono::time_point_cast<std::chrono::milliseconds>(issued.expires);
  return json(
      [&](JsonWriter& out) {
        out.beginObject()
            .member("token", issued.token)
            .member("agent", id)
            .member("expires", formatTimestamp(expires))
            .endObject();
      },
      201);
}

// ------------------------------------------------------------------------------ work items

ApiResponse listWorkItems(EndpointContext& context, const ApiRequest& request) {
  allowOnlyQuery(request, {"state", "queue", "agent", "medium", "after", "limit"});
  WorkItemFilter filter;
  if (auto state = request.queryValue("state")) {
    filter.state = enumFromString<WorkItemState>(*state);
    if (!filter.state) {
      throw ApiError(ApiErrorCode::BadRequest,
                     "query parameter 'state': unknown work item state '" + *state + "'");
    }
  }
  filter.queueId = request.queryValue("queue");
  filter.agentId = request.queryValue("agent");
  filter.medium = request.queryValue("medium");
  filter.afterId = request.queryValue("after");
  filter.limit = limitFrom(request);
  if (request.principal.agent()) {
    if (filter.agentId && *filter.agentId != request.principal.id) {
      forbidden("an agent token lists only its own agent's work items");
    }
    filter.agentId = request.principal.id;
  }
  auto items = unwrap(context.service.workItems(filter));
  return json([&](JsonWriter& out) {
    out.beginObject().key("items").beginArray();
    for (const auto& item : items) {
      if (visibleTo(request.principal, item.item)) {
        writeJson(out, item, false);
      }
    }
    out.endArray();
    if (items.size() == filter.limit && !items.empty() && items.back().item.id) {
      out.member("next", *items.back().item.id);
    }
    out.endObject();
  });
}

ApiResponse getWorkItem(EndpointContext& context, const ApiRequest& request) {
  const auto& id = request.param("id");
  auto details = unwrap(context.service.workItem(id));
  if (!visibleTo(request.principal, details.stored.item)) {
    forbidden("work item '" + id + "' is not offered to or held by agent '" + request.principal.id +
              "'");
  }
  return resource(details);
}

ApiResponse created(const ArrivalOutcome& outcome) {
  auto response = json(
      [&](JsonWriter& out) {
        out.beginObject()
            .member("id", outcome.workItemId)
            .member("duplicate", outcome.duplicate)
            .endObject();
      },
      outcome.duplicate ? 200 : 201);
  response.headers.emplace_back("Location", "/v1/work-items/" + outcome.workItemId);
  return response;
}

ApiResponse createWorkItem(EndpointContext& context, const ApiRequest& request) {
  WorkItem item = workItemFromJson(parseObject(request.body, false));
  return created(unwrap(context.service.createWorkItem(item, "api")));
}

// The same, without holding the request's thread while the item is committed.
void createWorkItemDeferred(EndpointContext& context, const ApiRequest& request,
                            Responder responder) {
  WorkItem item = workItemFromJson(parseObject(request.body, false));
  context.service.createWorkItemAsync(item, "api", responder.post,
                                      [respond = std::move(responder.respond),
                                       path = request.path](ServiceResult<ArrivalOutcome> result) {
                                        ApiResponse response;
                                        try {
                                          response = created(unwrap(std::move(result)));
                                        } catch (const ApiError& error) {
                                          response = problemResponse(error, path);
                                        }
                                        respond(std::move(response));
                                      });
}

ApiResponse accept(EndpointContext& context, const ApiRequest& request) {
  const auto& id = request.param("id");
  auto body = parseObject(request.body, true);
  JsonReader reader(body.root());
  auto agent = actingAgent(request, reader, true);
  reader.done();
  requireOwnItem(context.service, request, id);
  return resource(unwrap(context.service.accept(id, *agent)), false);
}

ApiResponse decline(EndpointContext& context, const ApiRequest& request) {
  const auto& id = request.param("id");
  auto body = parseObject(request.body, true);
  JsonReader reader(body.root());
  auto agent = actingAgent(request, reader, true);
  auto reason = reader.optString("reason");
  reader.done();
  requireOwnItem(context.service, request, id);
  return resource(unwrap(context.service.decline(id, *agent, reason)), false);
}

ApiResponse transfer(EndpointContext& context, const ApiRequest& request) {
  TransferRequest transfer;
  transfer.workItemId = request.param("id");
  auto body = parseObject(request.body, false);
  JsonReader reader(body.root());
  transfer.agentId = actingAgent(request, reader, false);
  transfer.targetType =
      enumFromJson<TransferTarget>(reader, "targetType", reader.string("targetType"));
  transfer.target = reader.string("target");
  transfer.reason = reader.optString("reason");
  reader.done();
  return resource(unwrap(context.service.transfer(transfer)), false);
}

ApiResponse complete(EndpointContext& context, const ApiRequest& request) {
  CompleteRequest complete;
  complete.workItemId = request.param("id");
  auto body = parseObject(request.body, true);
  JsonReader reader(body.root());
  complete.agentId = actingAgent(request, reader, false);
  complete.disposition = reader.optString("disposition");
  complete.notes = reader.optString("notes");
  reader.done();
  requireOwnItem(context.service, request, complete.workItemId);
  return resource(unwrap(context.service.complete(complete)), false);
}

ApiResponse reply(EndpointContext& context, const ApiRequest& request) {
  SendReply reply;
  reply.workItemId = request.param("id");
  auto body = parseObject(request.body, false);
  JsonReader reader(body.root());
  reply.agentId = actingAgent(request, reader, false);
  auto replyId = reader.optString("replyId");
  if (replyId && replyId->empty()) {
    reader.fail("replyId", "must not be empty");
  }
  reply.replyId =
      replyId.value_or(request.idempotencyKey.empty()
                           ? Poco::UUIDGenerator::defaultGenerator().createRandom().toString()
                           : request.idempotencyKey);
  reply.to = addressesFromJson(reader, "to");
  reply.cc = addressesFromJson(reader, "cc");
  reply.subject = reader.optString("subject");
  reply.body = bodyFromJson(reader, "body");
  reply.attachments = attachmentsFromJson(reader, "attachments");
  reader.done();
  requireOwnItem(context.service, request, reply.workItemId);
  auto stored = unwrap(context.service.reply(reply));
  return json(
      [&](JsonWriter& out) {
        out.beginObject().member("replyId", reply.replyId).key("workItem");
        writeJson(out, stored, false);
        out.endObject();
      },
      202);
}

// ------------------------------------------------------------------ queues, messages, letters

ApiResponse listQueues(EndpointContext& context, const ApiRequest& request) {
  allowOnlyQuery(request, {});
  return listOf("queues", context.service.queues());
}

ApiResponse postMessage(EndpointContext& context, const ApiRequest& request) {
  if (request.body.empty()) {
    throw ApiError(ApiErrorCode::BadRequest, "the request needs a message document as its body");
  }
  ApiResponse response;
  response.contentType = "application/xml; charset=utf-8";
  response.body =
      unwrap(context.service.exchange(request.body, Party{PartyType::Crm, request.principal.id}));
  return response;
}

ApiResponse listDeadLetters(EndpointContext& context, const ApiRequest& request) {
  allowOnlyQuery(request, {"limit"});
  return listOf("deadLetters", context.service.deadLetters(limitFrom(request)));
}

} // namespace

// The stored agent of an item is its last one, so a state check is needed too: an item the
// agent declined, let expire, transferred or completed keeps its name but is no longer its own.
bool visibleTo(const Principal& principal, const WorkItem& item) {
  return !principal.agent() ||
         (item.agentId == principal.id &&
          (item.state == WorkItemState::Offered || item.state == WorkItemState::Accepted));
}

std::string_view openApiDocument() {
  return embedded::openApiDocument();
}

void addEndpoints(Router& router, EndpointContext& context) {
  auto bind = [&context](ApiResponse (*function)(EndpointContext&, const ApiRequest&)) {
    return [&context, function](const ApiRequest& request) { return function(context, request); };
  };
  using enum Access;
  using enum BodyKind;
  router.add("GET", "/healthz", Public, None, healthz);
  router.add("GET", "/readyz", Public, None, bind(readyz));
  router.add("GET", "/metrics", context.metricsNeedKey ? Integrator : Public, None, bind(metrics));
  router.add("GET", "/v1/openapi.json", Authenticated, None, openApi);

  router.add("GET", "/v1/agents", Integrator, None, bind(listAgents));
  router.add("GET", "/v1/agents/{id}", Authenticated, None, bind(getAgent));
  router.add("PUT", "/v1/agents/{id}", Integrator, Json, bind(putAgent));
  router.add("POST", "/v1/agents/{id}/state", Authenticated, Json, bind(setAgentState));
  router.add("POST", "/v1/agents/{id}/tokens", Integrator, Json, bind(issueToken), false);

  router.add("GET", "/v1/work-items", Authenticated, None, bind(listWorkItems));
  router.add("POST", "/v1/work-items", Integrator, Json, bind(createWorkItem));
  router.defer("POST", "/v1/work-items",
               [&context](const ApiRequest& request, Responder responder) {
                 createWorkItemDeferred(context, request, std::move(responder));
               });
  router.add("GET", "/v1/work-items/{id}", Authenticated, None, bind(getWorkItem));
  router.add("POST", "/v1/work-items/{id}/accept", Authenticated, Json, bind(accept));
  router.add("POST", "/v1/work-items/{id}/decline", Authenticated, Json, bind(decline));
  router.add("POST", "/v1/work-items/{id}/transfer", Integrator, Json, bind(transfer));
  router.add("POST", "/v1/work-items/{id}/complete", Authenticated, Json, bind(complete));
  router.add("POST", "/v1/work-items/{id}/reply", Authenticated, Json, bind(reply));
  router.add("GET", "/v1/work-items/{id}/attachments/{index}", Authenticated, None,
             bind(getAttachment));

  router.add("GET", "/v1/queues", Integrator, None, bind(listQueues));
  router.add("POST", "/v1/messages", Integrator, Xml, bind(postMessage));
  router.add("GET", "/v1/dead-letters", Integrator, None, bind(listDeadLetters));
}

} // namespace api
} // namespace switchboard
