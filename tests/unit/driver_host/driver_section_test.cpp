#include "switchboard/attachment_store.h"
#include "switchboard/channel_driver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

DriverSection section() {
  DriverSection result;
  result.type = "maildir";
  result.name = "mail-1";
  result.file = "/etc/switchboard/switchboard.xml";
  result.line = 12;
  result.column = 5;
  auto set = [&](const std::string& name, const std::string& value, std::size_t column) {
    result.settings[name] = Setting{value, result.file, 12, column};
  };
  set("path", "maildir", 20);
  set("poll", "500ms", 35);
  set("slow", "2m", 36);
  set("big", "25M", 40);
  set("bad", "soon", 50);
  set("mixed", "1m30s", 55);
  set("mib", "25MiB", 60);
  return result;
}

TEST(DriverSection, ReadsTypedSettings) {
  DriverSection s = section();
  EXPECT_EQ(s.text("path"), "maildir");
  EXPECT_EQ(s.path("path"), std::filesystem::path("/etc/switchboard/maildir"));
  EXPECT_EQ(s.duration("poll", std::chrono::seconds(1)), std::chrono::milliseconds(500));
  EXPECT_EQ(s.duration("slow", std::chrono::seconds(1)), std::chrono::minutes(2));
  EXPECT_EQ(s.duration("absent", std::chrono::seconds(7)), std::chrono::seconds(7));
  EXPECT_EQ(s.bytes("big", 0), 25u << 20);
  EXPECT_EQ(s.bytes("absent", 42), 42u);
  EXPECT_FALSE(s.optionalText("absent").has_value());
}

TEST(DriverSection, ReadsEveryDurationAndSizeTheConfigurationSchemaAccepts) {
  DriverSection s = section();
  EXPECT_EQ(s.duration("mixed", std::chrono::seconds(1)), std::chrono::seconds(90));
  EXPECT_EQ(s.bytes("mib", 0), 25u << 20);
}

TEST(DriverSection, ErrorsNameFileLineColumnAndSetting) {
  DriverSection s = section();
  try {
    s.duration("bad", std::chrono::seconds(1));
    FAIL() << "no error";
  } catch (const SettingError& e) {
    EXPECT_THAT(e.what(), StartsWith("/etc/switchboard/switchboard.xml:12:50: bad: 'soon'"));
  }
  try {
    s.text("missing");
    FAIL() << "no error";
  } catch (const SettingError& e) {
    EXPECT_THAT(e.what(), StartsWith("/etc/switchboard/switchboard.xml:12:5: missing: "));
    EXPECT_THAT(e.what(), HasSubstr("required by driver 'mail-1'"));
  }
  EXPECT_THROW(s.bytes("poll", 0), SettingError);
}

class NullDriver : public ChannelDriver {
 public:
  void start() override {}
  void stop() override {}
  std::string deliver(std::string_view) override { return {}; }
};

TEST(DriverRegistry, CreatesRegisteredTypesAndRefusesDuplicatesAndUnknowns) {
  DriverRegistry registry;
  int created = 0;
  registry.add("maildir", [&](const DriverContext&) {
    ++created;
    return std::make_unique<NullDriver>();
  });
  EXPECT_THROW(registry.add("maildir", nullptr), std::invalid_argument);
  EXPECT_TRUE(registry.has("maildir"));
  EXPECT_EQ(registry.types(), std::vector<std::string>{"maildir"});

  struct : MessageSink {
    std::string submit(std::string_view) override { return {}; }
  } sink;
  DriverSection s = section();
  AttachmentStore attachments(std::filesystem::temp_directory_path() / "sb-registry-test");
  DriverContext context{s, sink, attachments, "sb-1"};
  EXPECT_NE(registry.create(context), nullptr);
  EXPECT_EQ(created, 1);
  s.type = "carrier-pigeon";
  try {
    registry.create(context);
    FAIL() << "no error";
  } catch (const SettingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("carrier-pigeon: no driver of this type"));
  }
}

} // namespace
} // namespace switchboard
