#include "switchboard/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>
#include <thread>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

TEST(Logger, WritesOneJsonObjectPerLineWithTimeLevelEventAndFields) {
  std::ostringstream out;
  Logger logger(LogLevel::Info, out);
  logger.info("http.request", {{"method", "GET"}, {"status", 200}, {"ms", 1.5}, {"ok", true}});
  auto written = lines(out.str());
  ASSERT_EQ(written.size(), 1u);
  EXPECT_THAT(written[0], ::testing::MatchesRegex(
                              "\\{\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z\","
                              "\"level\":\"info\",\"event\":\"http.request\",\"method\":\"GET\","
                              "\"status\":200,\"ms\":1.5,\"ok\":true\\}"));
}

TEST(Logger, FormatsTheTimeInUtcWithMilliseconds) {
  using namespace std::chrono;
  sys_days day = year{2026} / November / 21;
  auto time = day + hours{13} + minutes{45} + milliseconds{250};
  EXPECT_EQ(Logger::format(time, LogLevel::Warn, "x", {}),
            "{\"time\":\"2026-11-21T13:45:00.250Z\",\"level\":\"warn\",\"event\":\"x\"}");
}

TEST(Logger, DropsLinesBelowItsLevel) {
  std::ostringstream out;
  Logger logger(LogLevel::Warn, out);
  logger.debug("a");
  logger.info("b");
  logger.warn("c");
  logger.error("d");
  auto written = lines(out.str());
  ASSERT_EQ(written.size(), 2u);
  EXPECT_THAT(written[0], HasSubstr("\"level\":\"warn\",\"event\":\"c\""));
  EXPECT_THAT(written[1], HasSubstr("\"level\":\"error\",\"event\":\"d\""));
  logger.setLevel(LogLevel::Debug);
  logger.debug("e");
  EXPECT_THAT(out.str(), HasSubstr("\"event\":\"e\""));
}

TEST(Logger, SecretFieldsPrintStarsAndNeverTheValue) {
  std::ostringstream out;
  Logger logger(LogLevel::Info, out);
  logger.info("store.open", {LogField::secret("password", std::string("hunter2")), {"user", "sb"}});
  EXPECT_THAT(out.str(), HasSubstr("\"password\":\"***\""));
  EXPECT_THAT(out.str(), Not(HasSubstr("hunter2")));
}

TEST(Logger, UntrustedTextCannotBreakTheLineOrTheJson) {
  std::ostringstream out;
  Logger logger(LogLevel::Info, out);
  std::string hostile = "a\"b\\c\nd\r\te\x01\x7f\xff\xc3(\xe2\x82\xac";
  logger.info("mail.subject", {{"subject", hostile}, {"event", "forged"}});
  auto written = lines(out.str());
  ASSERT_EQ(written.size(), 1u);
  Poco::JSON::Parser parser;
  auto object = parser.parse(written[0]).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(object->getValue<std::string>("event"), "mail.subject");
  EXPECT_EQ(object->getValue<std::string>("_event"), "forged");
  EXPECT_EQ(object->getValue<std::string>("subject"),
            "a\"b\\c\nd\r\te\x01\x7f\xef\xbf\xbd\xef\xbf\xbd(\xe2\x82\xac");
}

TEST(Logger, LinesFromManyThreadsStayWhole) {
  std::ostringstream out;
  Logger logger(LogLevel::Info, out);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 200; ++i) {
        logger.info("tick", {{"thread", t}, {"i", i}, {"pad", std::string(100, 'x')}});
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  auto written = lines(out.str());
  ASSERT_EQ(written.size(), 800u);
  Poco::JSON::Parser parser;
  for (const auto& line : written) {
    EXPECT_NO_THROW(parser.parse(line)) << line;
    parser.reset();
  }
}

TEST(Logger, LevelNamesRoundTrip) {
  for (auto level : {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error}) {
    EXPECT_EQ(logLevelFromString(toString(level)), level);
  }
  EXPECT_EQ(logLevelFromString("verbose"), std::nullopt);
}

} // namespace
} // namespace switchboard
