// GET /v1/work-items/{id}/attachments/{index}: an attachment's bytes, for the agent who holds
// or is offered the item (the agent page's download) and for integrators.

#include "tests/unit/api/api_harness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kPdf = "sha256:" + std::string(64, 'a');
const std::string kLost = "sha256:" + std::string(64, 'b');
const std::string kOdd = "sha256:" + std::string(64, 'c');

class AttachmentEndpointTest : public ApiHarness {
 protected:
  void customize(ApiOptions& options) override {
    options.attachmentBytes = [](const std::string& digest) -> std::optional<std::string> {
      if (digest == kPdf) {
        return std::string("%PDF-1.4 fatura\0\x01", 17);
      }
      if (digest == kOdd) {
        return std::string("<script>alert(1)</script>");
      }
      return std::nullopt;
    };
  }

  void beforeStart() override {
    service.addItem("wi-10", WorkItemState::Accepted, "alice");
    service.addItem("wi-11", WorkItemState::Completed, "alice");
    std::lock_guard lock(service.mutex_);
    for (const char* id : {"wi-10", "wi-11", "wi-2"}) {
      auto& attachments = service.items_[id].item.attachments;
      attachments.push_back({std::string("fatura novembro.pdf"), "application/pdf", 17, kPdf, {}});
      attachments.push_back({std::string("lost.txt"), "text/plain", 3, kLost, {}});
      attachments.push_back(
          {std::string("a\"b\r\nSet-Cookie: x=1;.html"), "text/html\r\nX-Evil: 1", 25, kOdd, {}});
    }
  }

  std::string token(const std::string& agent) {
    return "Bearer " +
           post("/v1/agents/" + agent + "/tokens", "").json()->getValue<std::string>("token");
  }
};

TEST_F(AttachmentEndpointTest, TheAgentHoldingTheItemDownloadsItsAttachment) {
  auto reply = get("/v1/work-items/wi-10/attachments/0", token("alice"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, std::string("%PDF-1.4 fatura\0\x01", 17));
  EXPECT_EQ(reply.contentType, "application/pdf");
  EXPECT_EQ(reply.header("Content-Disposition"), "attachment; filename=\"fatura novembro.pdf\"; "
                                                 "filename*=UTF-8''fatura%20novembro.pdf");
  EXPECT_EQ(reply.header("X-Content-Type-Options"), "nosniff");
  EXPECT_THAT(reply.header("Content-Security-Policy"), HasSubstr("sandbox"));
  EXPECT_EQ(reply.header("Cache-Control"), "no-store");
  EXPECT_EQ(get("/v1/work-items/wi-2/attachments/0").status, 200); // an integrator
}

TEST_F(AttachmentEndpointTest, NoAttachmentOfAnItemTheAgentDoesNotHold) {
  auto alice = token("alice");
  for (std::string id : {"wi-2", "wi-11"}) {
    auto reply = get("/v1/work-items/" + id + "/attachments/0", alice);
    EXPECT_EQ(reply.status, 403) << id;
    EXPECT_THAT(reply.body, Not(HasSubstr("PDF"))) << id;
  }
  EXPECT_EQ(get("/v1/work-items/wi-10/attachments/0", token("bob")).status, 403);
  EXPECT_EQ(get("/v1/work-items/wi-10/attachments/0", "").status, 401);
}

TEST_F(AttachmentEndpointTest, BadNumbersAndMissingBytesAreClearErrors) {
  auto alice = token("alice");
  EXPECT_EQ(get("/v1/work-items/wi-10/attachments/3", alice).status, 404);
  EXPECT_EQ(get("/v1/work-items/wi-10/attachments/x", alice).status, 400);
  EXPECT_EQ(get("/v1/work-items/wi-10/attachments/-1", alice).status, 400);
  auto lost = get("/v1/work-items/wi-10/attachments/1", alice);
  EXPECT_EQ(lost.status, 404);
  EXPECT_THAT(lost.body, HasSubstr("not in the attachment store"));
  EXPECT_EQ(get("/v1/work-items/wi-404/attachments/0", alice).status, 404);
}

TEST_F(AttachmentEndpointTest, ANameOrTypeFromTheMailCannotForgeHeaders) {
  auto reply = get("/v1/work-items/wi-10/attachments/2", token("alice"));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.contentType, "application/octet-stream");
  EXPECT_EQ(reply.header("Set-Cookie"), "");
  EXPECT_EQ(reply.header("X-Evil"), "");
  EXPECT_THAT(reply.header("Content-Disposition"), StartsWith("attachment; filename=\"a_b__"));
  EXPECT_THAT(reply.header("Content-Disposition"), Not(HasSubstr("\r")));
}

class NoAttachmentStoreTest : public ApiHarness {
  void beforeStart() override {
    service.addItem("wi-10", WorkItemState::Accepted, "alice");
    std::lock_guard lock(service.mutex_);
    service.items_["wi-10"].item.attachments.push_back(
        {std::string("a.pdf"), "application/pdf", 1, kPdf, {}});
  }
};

TEST_F(NoAttachmentStoreTest, WithoutAnAttachmentReaderDownloadsAre503) {
  EXPECT_EQ(get("/v1/work-items/wi-10/attachments/0").status, 503);
}

} // namespace
} // namespace switchboard::testing
