// The value readers a driver uses on its section, and the duration and byte size formats.

#include "switchboard/config.h"

#include "tests/unit/config/config_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace switchboard {
namespace {

using std::chrono::microseconds;
using ::testing::HasSubstr;

TEST(ParseDuration, ReadsUnitsAndCombinations) {
  EXPECT_EQ(parseDuration("0"), microseconds(0));
  EXPECT_EQ(parseDuration("250us"), microseconds(250));
  EXPECT_EQ(parseDuration("500ms"), microseconds(500'000));
  EXPECT_EQ(parseDuration("30s"), microseconds(30'000'000));
  EXPECT_EQ(parseDuration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(parseDuration("1h"), std::chrono::hours(1));
  EXPECT_EQ(parseDuration("1d"), std::chrono::hours(24));
  EXPECT_EQ(parseDuration("1m30s"), std::chrono::seconds(90));
  EXPECT_EQ(parseDuration("1h2m3s4ms"), microseconds(3'723'004'000));
  EXPECT_EQ(parseDuration(" 10ms "), microseconds(10'000));
}

TEST(ParseDuration, RefusesWhatIsNotOne) {
  for (std::string_view text : {"", "5", "ms", "1 s", "-1s", "+1s", "1.5s", "1sec", "1s2", "1w",
                                "99999999999999999d", "106751992d"}) {
    EXPECT_FALSE(parseDuration(text)) << text;
  }
}

TEST(ParseByteSize, ReadsBinaryUnits) {
  EXPECT_EQ(parseByteSize("0"), 0u);
  EXPECT_EQ(parseByteSize("1048576"), 1048576u);
  EXPECT_EQ(parseByteSize("512KiB"), 512u * 1024);
  EXPECT_EQ(parseByteSize("512k"), 512u * 1024);
  EXPECT_EQ(parseByteSize("25MiB"), 25u * 1024 * 1024);
  EXPECT_EQ(parseByteSize("25M"), 25u * 1024 * 1024);
  EXPECT_EQ(parseByteSize("2GiB"), 2ULL * 1024 * 1024 * 1024);
  for (std::string_view text : {"", "MiB", "25 MiB", "25MB", "25mb", "-1", "1.5MiB",
                                "99999999999999999999", "999999999999GiB0"}) {
    EXPECT_FALSE(parseByteSize(text)) << text;
  }
}

ConfigElement element() {
  ConfigElement e;
  e.file = "/etc/switchboard/switchboard.xml";
  e.name = "example";
  e.position = {10, 5};
  e.attributes = {{"count", "42", {10, 14}, true},   {"negative", "-3", {10, 25}, true},
                  {"word", "many", {11, 14}, true},  {"flag", "true", {11, 26}, true},
                  {"off", "0", {11, 38}, true},      {"wait", "1m30s", {12, 14}, true},
                  {"tiny", "250us", {12, 27}, true}, {"size", "10MiB", {12, 40}, true},
                  {"dir", "spool", {13, 14}, true},  {"abs", "/var/x", {13, 28}, true},
                  {"default", "5s", {10, 5}, false}};
  return e;
}

std::string errorOf(const std::function<void()>& read) {
  try {
    read();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

TEST(ConfigElement, TypedReaders) {
  ConfigElement e = element();
  EXPECT_EQ(e.string("word"), "many");
  EXPECT_EQ(e.optionalString("missing"), std::nullopt);
  EXPECT_EQ(e.integer("count", 0, 100), 42);
  EXPECT_EQ(e.integer("negative", -10, 10), -3);
  EXPECT_TRUE(e.boolean("flag"));
  EXPECT_FALSE(e.boolean("off"));
  EXPECT_EQ(e.duration("wait"), std::chrono::seconds(90));
  EXPECT_EQ(e.duration("default"), std::chrono::seconds(5));
  EXPECT_EQ(e.byteSize("size"), 10u * 1024 * 1024);
  EXPECT_EQ(e.path("dir"), "/etc/switchboard/spool");
  EXPECT_EQ(e.path("abs"), "/var/x");
}

TEST(ConfigElement, ErrorsNameFileLineColumnAndSetting) {
  ConfigElement e = element();
  const std::string file = "/etc/switchboard/switchboard.xml:";
  EXPECT_EQ(errorOf([&] { e.integer("count", 0, 10); }),
            file + "10:14: example@count: must be between 0 and 10");
  EXPECT_EQ(errorOf([&] { e.integer("word", 0, 10); }),
            file + "11:14: example@word: 'many' is not a whole number");
  EXPECT_EQ(errorOf([&] { e.boolean("word"); }),
            file + "11:14: example@word: 'many' is not true or false");
  EXPECT_EQ(errorOf([&] { e.duration("word"); }),
            file + "11:14: example@word: 'many' is not a duration (write 0, 500ms, 30s, 2m, 1h, "
                   "1d or 1m30s)");
  EXPECT_EQ(errorOf([&] { e.duration("tiny"); }),
            file + "12:27: example@tiny: '250us' is not a whole number of milliseconds");
  EXPECT_EQ(errorOf([&] { e.byteSize("word"); }),
            file + "11:14: example@word: 'many' is not a byte size (write 1048576, 512KiB, "
                   "25MiB or 1GiB)");
  // A missing attribute is placed at its element.
  EXPECT_EQ(errorOf([&] { e.string("host"); }), file + "10:5: example@host: is required");
  EXPECT_EQ(errorOf([&] { e.fail("", "is broken"); }), file + "10:5: example: is broken");
}

TEST(ConfigElement, SecretsFromEachSource) {
  testing::TempFolder folder;
  ConfigElement e;
  e.file = folder.path() / "switchboard.xml";
  e.name = "apiKey";
  e.position = {3, 5};
  folder.write("key.txt", "from-a-file\r\n\n");
  e.attributes = {{"secretFile", "key.txt", {3, 20}, true}};
  Secret fromFile = e.secret("secret");
  EXPECT_EQ(fromFile.reveal(), "from-a-file");
  EXPECT_EQ(fromFile.origin(), "file " + (folder.path() / "key.txt").string());

  ::setenv("SB_CONFIG_VALUE_TEST", "from-the-environment", 1);
  e.attributes = {{"secretEnv", "SB_CONFIG_VALUE_TEST", {3, 20}, true}};
  EXPECT_EQ(e.secret("secret").reveal(), "from-the-environment");
  ::setenv("SB_CONFIG_VALUE_TEST", "", 1);
  EXPECT_THAT(errorOf([&] { e.secret("secret"); }),
              HasSubstr(":3:20: apiKey@secretEnv: the secret is empty (environment variable "
                        "SB_CONFIG_VALUE_TEST)"));
  ::unsetenv("SB_CONFIG_VALUE_TEST");
  EXPECT_THAT(errorOf([&] { e.secret("secret"); }),
              HasSubstr(":3:20: apiKey@secretEnv: the environment variable SB_CONFIG_VALUE_TEST "
                        "is not set"));

  e.attributes = {{"secret", "inline-value", {3, 20}, true}};
  EXPECT_EQ(e.secret("secret").reveal(), "inline-value");
  EXPECT_EQ(e.secret("secret").origin(), "inline");

  // A default is not a secret given: none is.
  e.attributes = {{"secret", "default", {3, 5}, false}};
  EXPECT_THAT(errorOf([&] { e.secret("secret"); }),
              HasSubstr(":3:5: apiKey@secret: is required: give it with one of secret, "
                        "secretFile or secretEnv"));
}

TEST(ConfigError, FormatsWithAndWithoutAPosition) {
  EXPECT_STREQ(ConfigError("a.xml", {4, 7}, "queue@id", "is bad").what(),
               "a.xml:4:7: queue@id: is bad");
  EXPECT_STREQ(ConfigError("a.xml", {}, "", "cannot read").what(), "a.xml: cannot read");
}

} // namespace
} // namespace switchboard
