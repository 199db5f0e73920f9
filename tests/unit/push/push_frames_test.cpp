// What goes into a frame: the sequence mark, the JSON form of a message, the offer's reason.

#include "push_hub.h"

#include "switchboard/message_codec.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::push {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Poco::JSON::Object::Ptr parse(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

TEST(PushFrames, TheSequenceMarkFollowsTheXmlDeclarationAndKeepsTheDocumentValid) {
  MessageCodec codec;
  Message message;
  message.id = "m-1";
  message.sender = {PartyType::Server, "sb-1"};
  message.addressee = {PartyType::Agent, "a-1"};
  message.payload = Command{Offer{"wi-000001", "a-1", std::string("q"), Timestamp{}, {}}};
  std::string framed = withSequence(codec.encode(message), 42);
  EXPECT_THAT(framed, StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                 "<?switchboard seq=\"42\"?>\n<message"));
  auto decoded = codec.decode(framed);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_EQ(decoded.value(), message);
  EXPECT_EQ(withSequence("<message/>", 7), "<?switchboard seq=\"7\"?>\n<message/>");
}

TEST(PushFrames, JsonMirrorsTheDocumentWithArraysForWhatRepeats) {
  MessageCodec codec;
  Message message;
  message.id = "m-2";
  message.sender = {PartyType::Server, "sb-1"};
  message.addressee = {PartyType::Agent, "a-1"};
  WorkItem item;
  item.id = "wi-000002";
  item.medium = "email";
  item.subject = "Quote \" backslash \\ line\nbreak <tag> & \xC3\xA9";
  item.body = Body{std::string("text/plain"), "Body"};
  Customer customer;
  customer.name = "Joana";
  customer.addresses.push_back({"email", "joana@example.com", std::nullopt});
  item.customer = customer;
  item.attributes = {{"topic", "billing"}};
  message.workItems.push_back(item);
  message.payload = Command{Offer{"wi-000002", "a-1", std::nullopt, Timestamp{}, {}}};

  auto json = parse(messageToJson(codec.encode(message)));
  EXPECT_EQ(json->getValue<std::string>("id"), "m-2");
  EXPECT_FALSE(json->has("xmlns"));
  auto items = json->getArray("workItem");
  ASSERT_EQ(items->size(), 1U);
  auto first = items->getObject(0);
  EXPECT_EQ(first->getValue<std::string>("subject"), *item.subject);
  EXPECT_EQ(first->getObject("body")->getValue<std::string>("type"), "text/plain");
  EXPECT_EQ(first->getObject("body")->getValue<std::string>("text"), "Body");
  // One customer in a work item: an object; its addresses: an array even of one.
  EXPECT_EQ(first->getObject("customer")->getValue<std::string>("name"), "Joana");
  EXPECT_EQ(first->getObject("customer")
                ->getArray("address")
                ->getObject(0)
                ->getValue<std::string>("text"),
            "joana@example.com");
  EXPECT_EQ(first->getArray("attribute")->getObject(0)->getValue<std::string>("name"), "topic");
  EXPECT_EQ(json->getObject("command")->getObject("offer")->getValue<std::string>("workItem"),
            "wi-000002");
  EXPECT_THROW(messageToJson("<broken"), std::runtime_error);
}

TEST(PushFrames, TheReasonIsTheTraceOnOneLineOfAtMost512Bytes) {
  std::string trace = "item wi-1 in queue q (stage 0) at 2026-11-21T09:15:02Z: offered to a-1\n"
                      "  ordering: longestIdle\n  eligible: a-1 [longestIdle=12] (winner)";
  std::string reason = reasonOf(trace);
  EXPECT_EQ(reason, "item wi-1 in queue q (stage 0) at 2026-11-21T09:15:02Z: offered to a-1; "
                    "ordering: longestIdle; eligible: a-1 [longestIdle=12] (winner)");
  std::string longTrace(600, 'x');
  longTrace.replace(508, 2, "\xC3\xA9");
  std::string cut = reasonOf(longTrace);
  EXPECT_LE(cut.size(), 512U);
  EXPECT_THAT(cut, ::testing::EndsWith("..."));
  EXPECT_EQ(cut.find('\n'), std::string::npos);
}

TEST(PushFrames, ResyncAndAnswerFramesInBothFormats) {
  EXPECT_THAT(resyncFrame(Format::Xml, 5, 9),
              HasSubstr("<resync xmlns=\"urn:switchboard:stream:v1\" after=\"5\" last=\"9\"/>"));
  auto resync = parse(resyncFrame(Format::Json, 5, 9));
  EXPECT_EQ(resync->getValue<std::string>("type"), "resync");
  EXPECT_EQ(resync->getValue<int>("after"), 5);
  EXPECT_EQ(resync->getValue<int>("last"), 9);
  std::string answer = "<message id=\"r\"><response kind=\"ping\" status=\"ok\"/></message>";
  EXPECT_EQ(answerFrame(Format::Xml, answer), answer);
  EXPECT_EQ(parse(answerFrame(Format::Json, answer))
                ->getObject("message")
                ->getObject("response")
                ->getValue<std::string>("status"),
            "ok");
  EXPECT_EQ(parse(answerFrame(Format::Json, "not xml"))->getValue<std::string>("document"),
            "not xml");
}

} // namespace
} // namespace switchboard::push
