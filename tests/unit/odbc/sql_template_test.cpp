#include "connectors/odbc/sql_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::odbc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::set<std::string> kAllowed{"address", "customerRef"};

TEST(SqlTemplateTest, NamedPlaceholdersBecomeParameterMarkersInOrder) {
  SqlTemplate sql("SELECT id FROM contacts WHERE email = :address OR id = :customerRef "
                  "OR backup_email = :address",
                  kAllowed);
  EXPECT_EQ(sql.positional(),
            "SELECT id FROM contacts WHERE email = ? OR id = ? OR backup_email = ?");
  EXPECT_THAT(sql.names(), ElementsAre("address", "customerRef", "address"));
}

TEST(SqlTemplateTest, LiteralsCommentsAndCastsAreLeftAlone) {
  SqlTemplate sql("SELECT ':address', \"a:address\", x::text -- :nothing\n"
                  "/* :none */ FROM t WHERE a = :address AND b = 'it''s :x'",
                  kAllowed);
  EXPECT_EQ(sql.positional(), "SELECT ':address', \"a:address\", x::text -- :nothing\n"
                              "/* :none */ FROM t WHERE a = ? AND b = 'it''s :x'");
  EXPECT_THAT(sql.names(), ElementsAre("address"));
}

TEST(SqlTemplateTest, AnUnknownPlaceholderIsRefusedWithItsPlace) {
  try {
    SqlTemplate("SELECT 1 WHERE x = :adress", kAllowed);
    FAIL() << "accepted an unknown placeholder";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("':adress' at character 20"));
    EXPECT_THAT(e.what(), HasSubstr(":address, :customerRef"));
  }
}

TEST(SqlTemplateTest, APositionalMarkerIsRefused) {
  EXPECT_THROW(SqlTemplate("SELECT 1 WHERE x = ?", kAllowed), std::invalid_argument);
}

} // namespace
} // namespace switchboard::odbc
