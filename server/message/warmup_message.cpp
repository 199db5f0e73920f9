#include "warmup_message.h"

#include <string>

namespace switchboard {

Message warmupMessage() {
  using std::chrono::milliseconds;
  const Timestamp at{milliseconds{1795700000250}};
  const std::string digest = "sha256:" + std::string(64, '0');

  Message message;
  message.id = "warmup-1";
  message.time = at;
  message.correlationId = "warmup-0";
  message.sender = {PartyType::Driver, "warmup"};
  message.addressee = {PartyType::Server, "switchboard"};

  Agent agent;
  agent.id = "a-warmup";
  agent.name = "Warm Up";
  agent.site = "site-1";
  agent.state = AgentState::Ready;
  agent.stateReason = "lunch";
  agent.stateSince = at;
  agent.seniority = 3;
  agent.lastContact = at;
  agent.contactsToday = 1;
  agent.skills = {{"billing", 7}};
  agent.capacity = {{"email", 5, 1}, {"voice", 1, std::nullopt}};
  agent.attributes = {{"languages", "pt en"}};
  message.agents.push_back(agent);

  Customer customer;
  customer.ref = "c-1";
  customer.name = "Customer";
  customer.language = "pt-PT";
  customer.tier = "gold";
  customer.lastAgentId = "a-warmup";
  customer.addresses = {{"email", "customer@example.com", "Customer"},
                        {"phone", "+351910000000", std::nullopt},
                        {"fax", "+351210000000", std::nullopt},
                        {"sip", "sip:customer@example.com", std::nullopt},
                        {"chat", "customer-1", std::nullopt},
                        {"web", "https://example.com/c/1", std::nullopt},
                        {"whatsapp", "+351910000000", std::nullopt}};
  customer.attributes = {{"segment", "retail"}};
  message.customers.push_back(customer);

  WorkItem item;
  item.id = "wi-warmup";
  item.medium = "email";
  item.state = WorkItemState::Queued;
  item.priority = 50;
  item.queueId = "billing";
  item.agentId = "a-warmup";
  item.created = at;
  item.sourceKey = "<warmup@example.com>";
  item.thread = "thread-1";
  item.customer = customer;
  item.contactPoint = Address{"email", "support@example.com", "Support"};
  item.subject = "Subject";
  item.body = Body{"text/plain", "Body"};
  item.transcript = {{"l-1", at, LineAuthor::Customer, "Customer", "hello"},
                     {"l-2", at, LineAuthor::Agent, std::nullopt, "hi"},
                     {std::nullopt, at, LineAuthor::System, std::nullopt, "joined"}};
  item.attachments = {{"a.pdf", "application/pdf", 1, digest, "att:" + digest}};
  item.attributes = {{"topic", "billing"}};
  item.history = {{at, WorkItemState::Queued, "classified", "router"},
                  {at, std::nullopt, "noted", std::nullopt}};
  message.workItems.push_back(item);

  message.payload = Notification{WorkItemArrived{}};
  return message;
}

} // namespace switchboard
