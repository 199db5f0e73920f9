#include "switchboard/message_codec.h"

#include "tests/support/test_data.h"
#include "warmup_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace switchboard {
namespace {

// Every address kind the schema names, and open ones, on one customer: the values of
// `kind` are checked against openToken's pattern, the regular expression whose first use raced.
std::string addressesOfEveryKind(const MessageCodec& codec) {
  auto decoded = codec.decode(testing::readFile(
      testing::sourceDir() / "samples/messages/05-email-arrived.notification.xml"));
  EXPECT_TRUE(decoded.ok()) << decoded.error().toString();
  Message message = std::move(decoded).value();
  EXPECT_FALSE(message.workItems.empty());
  Customer& customer = message.workItems.at(0).customer.value();
  customer.addresses = {{"email", "joana.ferreira@example.com", "Joana Ferreira"},
                        {"phone", "+351917654321", std::nullopt},
                        {"fax", "+351217654321", std::nullopt},
                        {"sip", "sip:joana@example.com", std::nullopt},
                        {"chat", "joana-f", "Joana"},
                        {"web", "https://example.com/joana", std::nullopt},
                        {"whatsapp", "+351917654321", std::nullopt},
                        {"x-crm-7", "77", std::nullopt}};
  return codec.encode(message);
}

// Xerces fills in parts of the shared grammar (the character classes of pattern facets, content
// models) the first time a value or element meets them, without a lock; the codec builds them
// when it is constructed. Without that, threads that decode at once right after construction
// refuse valid messages now and then. Each round builds a fresh codec (fresh grammar, nothing
// built yet) and lets several threads, released together, decode the same valid documents;
// enough rounds make an unguarded first use show, and none may fail. No timing is asserted.
TEST(MessageCodecWarmup, ThreadsDecodingRightAfterConstructionNeverRefuseAValidMessage) {
  std::vector<std::string> documents;
  {
    MessageCodec codec;
    documents.push_back(addressesOfEveryKind(codec));
    for (const auto& path : testing::filesIn("samples/messages", ".xml")) {
      documents.push_back(testing::readFile(path));
    }
    for (const auto& document : documents) {
      auto decoded = codec.decode(document);
      ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    }
  }
  const int threadCount = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 2U, 4U));
  constexpr int kRounds = 300;
  std::atomic<int> refused{0};
  std::mutex firstMutex;
  std::string first;
  for (int round = 0; round < kRounds; ++round) {
    MessageCodec codec;
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < threadCount; ++t) {
      threads.emplace_back([&] {
        ready.fetch_add(1);
        while (ready.load() < threadCount) {
          std::this_thread::yield();
        }
        for (const auto& document : documents) {
          auto decoded = codec.decode(document);
          if (!decoded.ok()) {
            refused.fetch_add(1);
            std::lock_guard lock(firstMutex);
            if (first.empty()) {
              first = decoded.error().toString();
            }
          }
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
  }
  EXPECT_EQ(refused.load(), 0) << "first refusal: " << first;
}

// The codec decodes this message when it is built: it must stay valid and keep every part.
TEST(MessageCodecWarmup, TheWarmupMessageIsValidAndCarriesEveryPart) {
  MessageCodec codec;
  const Message message = warmupMessage();
  auto decoded = codec.decode(codec.encode(message));
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_EQ(*decoded, message);
  ASSERT_EQ(message.workItems.size(), 1U);
  const WorkItem& item = message.workItems[0];
  EXPECT_FALSE(item.customer->addresses.empty());
  EXPECT_FALSE(item.transcript.empty());
  EXPECT_FALSE(item.attachments.empty());
  EXPECT_FALSE(item.attributes.empty());
  EXPECT_FALSE(item.history.empty());
  EXPECT_FALSE(message.agents.empty());
  EXPECT_FALSE(message.customers.empty());
}

// Its limits apply to what it is given, not to its own warm-up message.
TEST(MessageCodecWarmup, ACodecWithTightLimitsIsStillBuilt) {
  CodecLimits tight;
  tight.maxBytes = 64;
  tight.maxDepth = 2;
  MessageCodec codec(tight);
  auto decoded = codec.decode(codec.encode(warmupMessage()));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, DecodeError::Kind::TooLarge);
}

} // namespace
} // namespace switchboard
