// Classification by the item's own texts: rules choosing the queue and setting attributes from
// the subject, the body and the sender, targets reading the kept texts, and the texts an item
// message brings.

#include "engine_fixture.h"

#include "switchboard/routing/message_conversion.h"

namespace switchboard::routing {
namespace {

using testing::at;
using testing::EngineTest;

class ClassificationTest : public EngineTest {
 protected:
  ClassificationTest() : EngineTest(options()) {
    addQueue(queueSpec("billing", "agent.skills.billing >= 1"));
    addQueue(queueSpec("technical", "agent.skills.technical >= 1"));
    addQueue(queueSpec("spanish"));
    addQueue(queueSpec("general"));
    const auto rules = engine_.setRules({
        {"spanish-senders",
         R"(item.from endsWith [".es", ".mx"])",
         {AttributeSpec::scalar("language", "es")},
         ""},
        {"bills",
         R"(item.subject contains ["fatura", "factura", "invoice"]
                     or item.body contains ["cobrança", "reembolso"])",
         {AttributeSpec::scalar("topic", "billing")},
         "billing"},
        {"faults",
         R"(item.subject contains "internet" or item.body contains "router")",
         {AttributeSpec::scalar("topic", "technical")},
         "technical"},
        {"in-spanish", R"(item.language == "es")", {}, "spanish"},
    });
    EXPECT_TRUE(rules.ok()) << (rules.ok() ? "" : rules.error().message);
  }

  static EngineOptions options() {
    EngineOptions options;
    options.defaultQueue = "general";
    return options;
  }

  ItemView route(std::string id, std::string subject, std::string from, std::string body = "") {
    ItemSpec spec = itemSpec(id, "", "email");
    spec.subject = std::move(subject);
    spec.from = std::move(from);
    spec.body = std::move(body);
    submit(spec, 1);
    auto view = engine_.item(id);
    EXPECT_TRUE(view.has_value()) << id;
    return view.value_or(ItemView{});
  }
};

TEST_F(ClassificationTest, TheSubjectChoosesTheQueue) {
  EXPECT_EQ(route("m1", "FATURA de novembro cobrada em duplicado", "a@example.com").queueId,
            "billing");
  EXPECT_EQ(route("m2", "Internet down since yesterday", "b@example.co.uk").queueId, "technical");
  EXPECT_EQ(route("m3", "Quiero cambiar de tarifa", "c@example.pt").queueId, "general");
}

TEST_F(ClassificationTest, TheBodyClassifiesWhenTheSubjectSaysNothing) {
  EXPECT_EQ(route("m1", "Pedido", "a@example.pt", "Pedia o REEMBOLSO da cobranca").queueId,
            "billing");
  EXPECT_EQ(route("m2", "", "b@example.pt", "O router tem a luz vermelha").queueId, "technical");
}

TEST_F(ClassificationTest, TheSendersDomainSetsTheLanguage) {
  // The topic's queue comes first; otherwise the language set from the domain chooses.
  EXPECT_EQ(route("m1", "Factura duplicada", "lucia.martin@EXAMPLE.ES").queueId, "billing");
  EXPECT_EQ(route("m2", "Quiero cambiar de tarifa", "lucia.martin@EXAMPLE.ES").queueId, "spanish");
  EXPECT_EQ(route("m3", "Quiero cambiar de tarifa", "lucia@example.es.example.com").queueId,
            "general");
}

TEST_F(ClassificationTest, TargetsReadTheKeptTexts) {
  QueueSpec vip =
      queueSpec("vip", R"(item.contactPoint startsWith "vip@" and agent.team == "vip")");
  addQueue(vip);
  AgentSpec gold = agentSpec("a-gold");
  gold.attributes = {AttributeSpec::scalar("team", "vip")};
  addReady(agentSpec("a-plain"));
  addReady(gold);
  ItemSpec spec = itemSpec("m1", "vip", "email");
  spec.contactPoint = "VIP@mares.example";
  auto events = submit(spec, 1);
  EXPECT_EQ(offeredTo(events, "m1"), "a-gold");

  // The body is read only while rules run: a target that reads it does not compile.
  auto bad = engine_.upsertQueue(queueSpec("bad", R"(item.body contains "x")"), at(2));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'item.body' is for classification rules only"),
            std::string::npos);
}

TEST(ItemFields, RulesAndTargetsReadTheIdMediumAndCustomer) {
  RoutingEngine engine;
  QueueSpec general;
  general.id = "general";
  ASSERT_TRUE(engine.upsertQueue(general, at(0)).ok());
  QueueSpec regulars;
  regulars.id = "regulars";
  regulars.target = R"(item.customer == "c-7" and item.medium in ["chat", "email"])";
  ASSERT_TRUE(engine.upsertQueue(regulars, at(0)).ok());
  const auto rules = engine.setRules({
      {"answer", "item.id == 42", {AttributeSpec::scalar("answer", "yes")}, ""},
      {"chats", R"(item.medium == "chat")", {AttributeSpec::scalar("channel", "chat")}, ""},
      {"anonymous", "not item.customer", {AttributeSpec::scalar("anonymous", "yes")}, ""},
      {"regular", R"(item.customer == "c-7")", {}, "regulars"},
      {"rest", "", {}, "general"},
  });
  ASSERT_TRUE(rules.ok()) << (rules.ok() ? "" : rules.error().message);
  AgentSpec texts;
  texts.id = "a1";
  texts.capacity = {CapacityMix{{{"chat", 3}, {"email", 3}}}};
  AgentSpec calls;
  calls.id = "a2";
  calls.capacity = {CapacityMix{{{"voice", 1}}}};
  for (const AgentSpec& agent : {texts, calls}) {
    ASSERT_TRUE(engine.upsertAgent(agent, at(0)).ok());
    ASSERT_TRUE(engine.setAgentState(agent.id, AgentState::Ready, "", at(0)).ok());
  }

  auto attributesOf = [&](std::string_view id) {
    std::vector<std::string> names;
    const auto view = engine.item(id);
    for (const auto& attribute : view->attributes) {
      names.push_back(attribute.name + "=" + attribute.values.front());
    }
    return names;
  };
  ItemSpec numbered;
  numbered.id = "42"; // reads as a number, so it equals the literal 42
  numbered.medium = "chat";
  numbered.customerId = "c-9";
  ASSERT_TRUE(engine.submit(numbered, at(1)).ok());
  EXPECT_EQ(attributesOf("42"), (std::vector<std::string>{"answer=yes", "channel=chat"}));
  EXPECT_EQ(engine.item("42")->queueId, "general");

  ItemSpec anonymous;
  anonymous.id = "m-1";
  anonymous.medium = "email";
  ASSERT_TRUE(engine.submit(anonymous, at(2)).ok());
  EXPECT_EQ(attributesOf("m-1"), (std::vector<std::string>{"anonymous=yes"}));

  // The target reads the customer and the medium: a regular's chat goes to a1; its call waits
  // although a2 is free.
  ItemSpec chat;
  chat.id = "m-2";
  chat.medium = "chat";
  chat.customerId = "c-7";
  ASSERT_TRUE(engine.submit(chat, at(3)).ok());
  EXPECT_EQ(engine.item("m-2")->queueId, "regulars");
  EXPECT_EQ(engine.item("m-2")->state, WorkItemState::Offered);
  ItemSpec call = chat;
  call.id = "m-3";
  call.medium = "voice";
  ASSERT_TRUE(engine.submit(call, at(4)).ok());
  EXPECT_EQ(engine.item("m-3")->state, WorkItemState::Queued);
}

TEST_F(ClassificationTest, LongTextsAreCutAtACharacterBoundary) {
  // The keyword lies beyond the part of the body that rules read.
  EXPECT_EQ(route("m1", "", "a@example.pt", std::string(kMaxBodyBytes, 'x') + " router").queueId,
            "general");
  EXPECT_EQ(
      route("m2", "", "a@example.pt", std::string(kMaxBodyBytes - 7, 'x') + " router").queueId,
      "technical");
  // The kept subject is cut to kMaxItemTextBytes, without splitting the 'ç'.
  std::string subject(kMaxItemTextBytes - 1, 'x');
  subject += "ç invoice";
  EXPECT_EQ(route("m3", subject, "a@example.pt").queueId, "general");
}

TEST(ItemTexts, ComeFromTheMessage) {
  WorkItem item;
  item.id = "wi-1";
  item.medium = "email";
  item.subject = "Fatura de novembro";
  item.contactPoint = Address{"email", "apoio@mares-telecom.example", std::nullopt};
  Customer customer;
  customer.name = "Joana Ferreira";
  customer.addresses = {Address{"email", "joana.ferreira@example.com", "Joana Ferreira"},
                        Address{"phone", "+351210000000", std::nullopt}};
  item.customer = customer;
  item.body = Body{"text/plain", "Bom dia, a fatura veio em duplicado."};
  auto spec = itemFromMessage(item);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec.value().subject, "Fatura de novembro");
  EXPECT_EQ(spec.value().from, "joana.ferreira@example.com");
  EXPECT_EQ(spec.value().contactPoint, "apoio@mares-telecom.example");
  EXPECT_EQ(spec.value().customerName, "Joana Ferreira");
  EXPECT_EQ(spec.value().body, "Bom dia, a fatura veio em duplicado.");
}

TEST(ItemTexts, AChatsBodyIsWhatTheCustomerSaid) {
  WorkItem item;
  item.id = "wi-2";
  item.medium = "chat";
  item.transcript = {
      TranscriptLine{std::nullopt, {}, LineAuthor::Customer, std::nullopt, "Olá"},
      TranscriptLine{std::nullopt, {}, LineAuthor::Agent, std::nullopt, "Bom dia, diga"},
      TranscriptLine{std::nullopt, {}, LineAuthor::Customer, std::nullopt, "A fibra não liga"},
  };
  auto spec = itemFromMessage(item);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec.value().body, "Olá\nA fibra não liga");
  EXPECT_EQ(spec.value().from, "");

  item.transcript = {TranscriptLine{std::nullopt,
                                    {},
                                    LineAuthor::Customer,
                                    std::nullopt,
                                    std::string(kMaxBodyBytes + 10, 'y')},
                     TranscriptLine{std::nullopt, {}, LineAuthor::Customer, std::nullopt, "z"}};
  spec = itemFromMessage(item);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec.value().body, std::string(kMaxBodyBytes, 'y'));
}

} // namespace
} // namespace switchboard::routing
