// parseRequestHead(): the ordinary requests it reads, and every kind it leaves to Poco's parser.

#include "request_head.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace switchboard::api {
namespace {

using Headers = std::vector<std::pair<std::string_view, std::string_view>>;

TEST(RequestHead, ReadsAPostWithItsHeadersAndBody) {
  std::string bytes = "\r\nPOST /v1/work-items?x=1 HTTP/1.1\r\n"
                      "Host: 127.0.0.1:8080\r\n"
                      "Authorization:   Bearer abc \t\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: 7\r\n"
                      "X-Empty:\r\n"
                      "\r\n"
                      "{\"a\":1}GET / HTTP/1.1\r\n";
  auto head = parseRequestHead(bytes);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->method, "POST");
  EXPECT_EQ(head->uri, "/v1/work-items?x=1");
  EXPECT_EQ(head->version, "HTTP/1.1");
  EXPECT_EQ(head->headers, (Headers{{"Host", "127.0.0.1:8080"},
                                    {"Authorization", "Bearer abc"},
                                    {"Content-Type", "application/json"},
                                    {"Content-Length", "7"},
                                    {"X-Empty", ""}}));
  EXPECT_EQ(head->contentLength, 7u);
  EXPECT_EQ(bytes.substr(head->headSize, head->contentLength), "{\"a\":1}")
      << "the head's size counts the empty line before it; the next request stays after the body";
}

TEST(RequestHead, AGetOrDeleteWithoutALengthHasNoBody) {
  for (std::string method : {"GET", "DELETE"}) {
    std::string bytes = method + " /v1/queues HTTP/1.0\r\nAccept: */*\r\n\r\n";
    auto head = parseRequestHead(bytes);
    ASSERT_TRUE(head.has_value()) << method;
    EXPECT_EQ(head->version, "HTTP/1.0");
    EXPECT_EQ(head->contentLength, 0u);
  }
}

TEST(RequestHead, LeavesToPocoWhatItIsNotSureOf) {
  const char* const kLeft[] = {
      // not whole yet, or its body not all there
      "GET / HTTP/1.1\r\nHost: x\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabc",
      // a body Poco reads in another way, or an answer only Poco's request object gets right
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nab",
      "GET /v1/agents/stream HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "HEAD / HTTP/1.1\r\n\r\n",
      "POST / HTTP/1.1\r\n\r\n",
      "OPTIONS / HTTP/1.1\r\n\r\n",
      // malformed, for Poco to refuse
      "GET / HTTP/1.1\nHost: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
      "GET / HTTP/1.1\r\n: no name\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET /\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET /a\x7f HTTP/1.1\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nab",
      "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\nab",
      "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
  };
  for (const char* bytes : kLeft) {
    EXPECT_FALSE(parseRequestHead(bytes).has_value()) << bytes;
  }
}

TEST(RequestHead, RequestsBeyondPocosLimitsGoToPoco) {
  RequestHeadLimits limits;
  std::string longUri = "GET /" + std::string(limits.uri, 'a') + " HTTP/1.1\r\n\r\n";
  EXPECT_FALSE(parseRequestHead(longUri).has_value());
  std::string longName = "GET / HTTP/1.1\r\n" + std::string(limits.name + 1, 'n') + ": v\r\n\r\n";
  EXPECT_FALSE(parseRequestHead(longName).has_value());
  std::string longValue = "GET / HTTP/1.1\r\nX: " + std::string(limits.value + 1, 'v') + "\r\n\r\n";
  EXPECT_FALSE(parseRequestHead(longValue).has_value());
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < limits.fields; ++i) {
    many += "X-" + std::to_string(i) + ": v\r\n";
  }
  EXPECT_TRUE(parseRequestHead(many + "\r\n").has_value()) << "at the limit";
  EXPECT_FALSE(parseRequestHead(many + "X-last: v\r\n\r\n").has_value()) << "over it";
  std::string body(limits.body + 1, 'b');
  std::string large =
      "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_FALSE(parseRequestHead(large).has_value());
}

} // namespace
} // namespace switchboard::api
