// The POP3 source's UIDL memory: what it remembers survives a restart, and what left the server
// is forgotten.

#include "pop3_uidl_memory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

namespace switchboard::email {
namespace {

using ::testing::ElementsAre;

class Pop3UidlMemoryTest : public ::testing::Test {
 protected:
  Pop3UidlMemoryTest()
      : file_(std::filesystem::temp_directory_path() / ("sb-uidl-" + std::to_string(::getpid())) /
              "pop3.uidl.db") {
    std::filesystem::remove_all(file_.parent_path());
  }
  ~Pop3UidlMemoryTest() override { std::filesystem::remove_all(file_.parent_path()); }

  std::filesystem::path file_;
};

TEST_F(Pop3UidlMemoryTest, RemembersPerMailboxAcrossReopening) {
  {
    Pop3UidlMemory memory(file_);
    EXPECT_TRUE(memory.known("support@pop:110").empty());
    memory.remember("support@pop:110", {"0001a", "0002b"});
    memory.remember("sales@pop:110", {"0001a"});
    memory.remember("support@pop:110", {"0002b", "0003c"});
  }
  Pop3UidlMemory memory(file_);
  EXPECT_THAT(memory.known("support@pop:110"), ElementsAre("0001a", "0002b", "0003c"));
  EXPECT_THAT(memory.known("sales@pop:110"), ElementsAre("0001a"));
}

TEST_F(Pop3UidlMemoryTest, ForgetsWhatIsNoLongerOnTheServer) {
  Pop3UidlMemory memory(file_);
  memory.remember("support@pop:110", {"a", "b", "c"});
  memory.remember("sales@pop:110", {"a"});
  memory.keepOnly("support@pop:110", {"b", "z"});
  EXPECT_THAT(memory.known("support@pop:110"), ElementsAre("b"));
  EXPECT_THAT(memory.known("sales@pop:110"), ElementsAre("a"));
}

TEST_F(Pop3UidlMemoryTest, AFileThatCannotBeOpenedIsAClearError) {
  std::filesystem::create_directories(file_); // a folder where the file should be
  EXPECT_THROW(Pop3UidlMemory{file_}, std::runtime_error);
}

} // namespace
} // namespace switchboard::email
