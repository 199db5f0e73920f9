// Runs every mail of tests/data/mail/ through the reader and the work item builder and checks
// it against its sidecar NAME.expect: one "key: value" per line (keys below, in check()).
// Values may write a line break as \n and a tab as \t. Every work item must also make a valid
// workItemArrived message.

#include "mail_reader.h"
#include "mime_work_item.h"
#include "switchboard/message_codec.h"

#include "tests/support/test_data.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::email {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::pair<std::string, std::string>> readExpectations(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::size_t colon = line.find(": ");
    if (line.empty() || colon == std::string::npos) {
      continue;
    }
    std::string value;
    std::string raw = line.substr(colon + 2);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == 'n' || raw[i + 1] == 't')) {
        value += raw[++i] == 'n' ? '\n' : '\t';
      } else {
        value += raw[i];
      }
    }
    lines.emplace_back(line.substr(0, colon), value);
  }
  return lines;
}

std::string attributeOf(const WorkItem& item, const std::string& name) {
  for (const Attribute& attribute : item.attributes) {
    if (attribute.name == name) {
      return attribute.value;
    }
  }
  return "(absent)";
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, separator);) {
    parts.push_back(part);
  }
  return parts;
}

class MailCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("mail-corpus-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_;
  MessageCodec codec_;
};

TEST_F(MailCorpus, EveryMailReadsAsExpected) {
  AttachmentStore attachments(root_);
  auto mails = testing::filesIn("tests/data/mail", ".eml");
  ASSERT_GE(mails.size(), 30u);
  for (const auto& path : mails) {
    SCOPED_TRACE(path.filename().string());
    std::filesystem::path sidecar = path;
    sidecar.replace_extension(".expect");
    auto expected = readExpectations(testing::readFile(sidecar));
    ASSERT_FALSE(expected.empty());
    ASSERT_EQ(expected.front().first, "outcome");
    std::string bytes = testing::readFile(path);
    auto mail = readMail(bytes);

    if (expected.front().second == "rejected") {
      // What a source refuses (and dead-letters): unreadable, or no sender to answer.
      std::string reason = !mail.ok() ? mail.error() : (!mail->from ? "no sender" : "");
      ASSERT_FALSE(reason.empty()) << "read, but the corpus says it must be refused";
      for (const auto& [key, value] : expected) {
        if (key == "reason") {
          EXPECT_THAT(reason, HasSubstr(value));
        }
      }
      continue;
    }
    ASSERT_TRUE(mail.ok()) << mail.error();
    ASSERT_TRUE(mail->from.has_value());
    WorkItem item = mailWorkItem(*mail, bytes, attachments);
    std::string text = item.body ? item.body->text : "";
    std::size_t attachmentIndex = 0;
    for (const auto& [key, value] : expected) {
      SCOPED_TRACE(key + ": " + value);
      if (key == "kind") {
        EXPECT_EQ(toString(mail->kind), value);
        if (value != "customer") {
          EXPECT_EQ(attributeOf(item, "email.kind"), value);
          EXPECT_THAT(attributeOf(item, "noRoute"), StartsWith(value));
        } else {
          EXPECT_EQ(attributeOf(item, "noRoute"), "(absent)");
        }
      } else if (key == "reason") {
        EXPECT_EQ(mail->kindReason, value);
      } else if (key == "from") {
        EXPECT_EQ(mail->from->value, value);
      } else if (key == "name") {
        EXPECT_EQ(mail->from->name, value);
      } else if (key == "subject") {
        EXPECT_EQ(item.subject, value);
      } else if (key == "subject-start") {
        EXPECT_THAT(item.subject.value_or(""), StartsWith(value));
      } else if (key == "text") {
        EXPECT_THAT(text, HasSubstr(value));
      } else if (key == "no-text") {
        EXPECT_THAT(text, ::testing::Not(HasSubstr(value)));
      } else if (key == "attachments") {
        EXPECT_EQ(item.attachments.size(), std::stoul(value));
      } else if (key == "attachment") {
        // name|type|size[|inline]; name "-" for none, size "*" for any.
        std::vector<std::string> fields = split(value, '|');
        ASSERT_GE(fields.size(), 3u);
        ASSERT_LT(attachmentIndex, item.attachments.size());
        const Attachment& attachment = item.attachments[attachmentIndex];
        EXPECT_EQ(attachment.name.value_or("-"), fields[0]);
        EXPECT_EQ(attachment.type, fields[1]);
        if (fields[2] != "*") {
          EXPECT_EQ(attachment.size, std::stoll(fields[2]));
        }
        EXPECT_EQ(attachment.digest, sha256Digest(*attachments.get(attachment.digest)));
        if (attachmentIndex < mail->attachments.size()) {
          EXPECT_EQ(mail->attachments[attachmentIndex].isInline,
                    fields.size() > 3 && fields[3] == "inline");
        }
        ++attachmentIndex;
      } else if (key == "defect") {
        EXPECT_THAT(attributeOf(item, "email.defects"), HasSubstr(value));
      } else if (key == "defects") {
        ASSERT_EQ(value, "none");
        EXPECT_EQ(attributeOf(item, "email.defects"), "(absent)");
      } else if (key == "inReplyTo" || key == "workItemRef") {
        EXPECT_EQ(attributeOf(item, key), value);
      } else if (key == "inReplyTo-start") {
        EXPECT_THAT(attributeOf(item, "inReplyTo"), StartsWith(value));
      } else if (key == "bounced") {
        EXPECT_EQ(attributeOf(item, "email.bounced"), value);
      } else if (key != "outcome") {
        ADD_FAILURE() << "unknown key in " << sidecar.filename();
      }
    }
    // Every declared attachment was checked, and nothing more was kept unless the count says.
    bool counted = std::any_of(expected.begin(), expected.end(),
                               [](const auto& line) { return line.first == "attachments"; });
    if (!counted) {
      EXPECT_EQ(attachmentIndex, item.attachments.size());
    }

    Message arrival;
    arrival.id = "corpus-1";
    arrival.time = Timestamp{std::chrono::milliseconds(1'763'000'000'000)};
    arrival.sender = {PartyType::Driver, "mail-1"};
    arrival.addressee = {PartyType::Server, "sb-1"};
    arrival.workItems.push_back(item);
    arrival.payload = Notification{WorkItemArrived{}};
    auto decoded = codec_.decode(codec_.encode(arrival));
    EXPECT_TRUE(decoded.ok()) << decoded.error().toString();
  }
}

} // namespace
} // namespace switchboard::email
