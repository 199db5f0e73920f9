// Documents written to hurt a parser: they must be refused, quickly and without side effects.

#include "switchboard/message_codec.h"

#include "tests/support/test_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

long maxResidentKilobytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// A TCP listener on loopback that records whether anyone connected to it.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/evil"; }
  bool connected() const {
    pollfd waiting{fd_, POLLIN, 0};
    return poll(&waiting, 1, 100) > 0;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

constexpr std::string_view kEnvelope =
    R"(<sender type="driver" id="d"/><addressee type="server" id="s"/>)";

std::string message(std::string_view attributes, std::string_view body) {
  return R"(<message xmlns="urn:switchboard:message:v1" version="1.0" id="m-1" )"
         R"(time="2026-11-21T13:45:00Z" )" +
         std::string(attributes) + ">" + std::string(kEnvelope) + std::string(body) + "</message>";
}

TEST(HostileMessages, EveryFileWithADoctypeIsRefusedAsForbidden) {
  MessageCodec codec;
  int refused = 0;
  for (const auto& path : testing::filesIn("tests/data/messages/hostile", ".xml")) {
    if (path.filename() == "schema-location.xml") {
      continue;
    }
    SCOPED_TRACE(path.filename().string());
    auto decoded = codec.decode(testing::readFile(path));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().kind, DecodeError::Kind::Forbidden);
    EXPECT_THAT(decoded.error().reason, HasSubstr("DOCTYPE"));
    ++refused;
  }
  EXPECT_GE(refused, 5);
}

TEST(HostileMessages, ASchemaLocationHintIsIgnoredAndNeverFetched) {
  MessageCodec codec;
  EXPECT_TRUE(codec
                  .decode(testing::readFile(testing::sourceDir() /
                                            "tests/data/messages/hostile/schema-location.xml"))
                  .ok());
  Listener listener;
  std::string document = message(
      R"(xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:switchboard:message:v1 )" +
          listener.url() + "\"",
      "<request><ping/></request>");
  auto decoded = codec.decode(document);
  EXPECT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_FALSE(listener.connected());
}

TEST(HostileMessages, ExternalEntitiesAreNeitherFetchedNorRead) {
  MessageCodec codec;
  Listener listener;
  auto secretFile = std::filesystem::temp_directory_path() / "switchboard-xxe-secret.txt";
  { std::ofstream(secretFile) << "TOP-SECRET-7f3a"; }
  for (const std::string& target : {listener.url(), "file://" + secretFile.string()}) {
    std::string document = "<!DOCTYPE message [<!ENTITY x SYSTEM \"" + target + "\">]>" +
                           message("", "<workItem medium=\"email\"><subject>&x;</subject>"
                                       "</workItem><notification><workItemArrived/>"
                                       "</notification>");
    auto decoded = codec.decode(document);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().kind, DecodeError::Kind::Forbidden);
    EXPECT_THAT(decoded.error().reason, Not(HasSubstr("TOP-SECRET")));
  }
  std::string dtd = "<!DOCTYPE message SYSTEM \"" + listener.url() + "\">" +
                    message("", "<request><ping/></request>");
  EXPECT_FALSE(codec.decode(dtd).ok());
  EXPECT_FALSE(listener.connected());
  std::filesystem::remove(secretFile);
}

TEST(HostileMessages, BillionLaughsIsRefusedWithoutExpanding) {
  MessageCodec codec;
  std::string entities = "<!ENTITY l0 \"ha\">";
  for (int i = 1; i <= 12; ++i) {
    std::string previous = "&l" + std::to_string(i - 1) + ";";
    std::string repeated;
    for (int j = 0; j < 10; ++j) {
      repeated += previous;
    }
    entities += "<!ENTITY l" + std::to_string(i) + " \"" + repeated + "\">";
  }
  std::string document =
      "<!DOCTYPE message [" + entities + "]>" +
      message("", "<workItem medium=\"email\"><subject>&l12;</subject></workItem>"
                  "<notification><workItemArrived/></notification>");
  long before = maxResidentKilobytes();
  auto decoded = codec.decode(document);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, DecodeError::Kind::Forbidden);
  // Fully expanded, &l12; is 2 TB; refusing it must not cost more than a few megabytes.
  EXPECT_LT(maxResidentKilobytes() - before, 64 * 1024);
}

TEST(HostileMessages, AHundredMegabyteDocumentIsRefusedBySize) {
  MessageCodec codec;
  std::string huge =
      message("", "<workItem medium=\"email\"><body>") + std::string(100 * 1024 * 1024, 'x');
  auto decoded = codec.decode(huge);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, DecodeError::Kind::TooLarge);
}

TEST(HostileMessages, TenThousandLevelsOfNestingAreRefused) {
  std::string open;
  std::string close;
  for (int i = 0; i < 10000; ++i) {
    open += "<line time=\"2026-11-21T13:45:00Z\" author=\"customer\">";
    close += "</line>";
  }
  std::string document =
      message("", "<workItem medium=\"chat\">" + open + close +
                      "</workItem><notification><workItemArrived/></notification>");
  // With the default depth limit the depth check stops it; with a limit that lets it through,
  // schema validation must still stop it at the first nested line, without exhausting the stack.
  for (std::size_t maxDepth : {std::size_t{32}, std::size_t{20000}}) {
    MessageCodec codec(CodecLimits{.maxBytes = 4 << 20, .maxDepth = maxDepth});
    long before = maxResidentKilobytes();
    auto decoded = codec.decode(document);
    ASSERT_FALSE(decoded.ok());
    EXPECT_TRUE(decoded.error().kind == DecodeError::Kind::TooDeep ||
                decoded.error().kind == DecodeError::Kind::Invalid)
        << decoded.error().toString();
    EXPECT_EQ(decoded.error().line, 1u);
    EXPECT_LT(maxResidentKilobytes() - before, 64 * 1024);
  }
}

} // namespace
} // namespace switchboard
