#include "switchboard/attachment_store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace switchboard {
namespace {

class AttachmentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("sb-attachments-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::size_t filesUnderRoot() const {
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root_)) {
      count += entry.is_regular_file() ? 1 : 0;
    }
    return count;
  }

  std::filesystem::path root_;
};

TEST(Sha256Digest, MatchesTheKnownDigestOfAbc) {
  EXPECT_EQ(sha256Digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(AttachmentStoreTest, KeepsBytesAndGivesThemBackByDigest) {
  AttachmentStore store(root_);
  std::string pdf = "%PDF-1.4 fatura\n" + std::string(1000, '\x01');
  Attachment reference = store.put(pdf, "fatura.pdf", "application/pdf");
  EXPECT_EQ(reference.digest, sha256Digest(pdf));
  EXPECT_EQ(reference.size, static_cast<std::int64_t>(pdf.size()));
  EXPECT_EQ(reference.name, "fatura.pdf");
  EXPECT_EQ(reference.type, "application/pdf");
  EXPECT_EQ(reference.ref, "att:" + reference.digest);
  EXPECT_EQ(store.get(reference.digest), pdf);
}

TEST_F(AttachmentStoreTest, StoresTheSameBytesOnce) {
  AttachmentStore store(root_);
  Attachment first = store.put("same bytes", "a.txt", "text/plain");
  Attachment second = store.put("same bytes", "b.txt", "text/plain");
  EXPECT_EQ(first.digest, second.digest);
  EXPECT_EQ(second.name, "b.txt");
  EXPECT_EQ(filesUnderRoot(), 1u);
  store.put("other bytes", std::nullopt, "text/plain");
  EXPECT_EQ(filesUnderRoot(), 2u);
}

TEST_F(AttachmentStoreTest, RefusesDigestsThatAreNotSha256References) {
  AttachmentStore store(root_);
  store.put("x", std::nullopt, "text/plain");
  EXPECT_FALSE(store.get("sha256:../../etc/passwd").has_value());
  EXPECT_FALSE(store.get("md5:abc").has_value());
  EXPECT_FALSE(store.get(sha256Digest("never stored")).has_value());
}

} // namespace
} // namespace switchboard
