#include "authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::api {
namespace {

using Clock = std::chrono::system_clock;
constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";

TEST(Authenticator, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(hex(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size.
  EXPECT_EQ(hex(hmacSha256(std::string(131, '\xaa'),
                           "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Authenticator, Base64UrlRoundTrips) {
  for (std::string text : {"", "a", "ab", "abc", "abcd", "\xff\xfe\x00 ok"}) {
    auto encoded = base64UrlEncode(text);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(base64UrlDecode(encoded), text);
  }
  EXPECT_EQ(base64UrlDecode("a+b"), std::nullopt);
  EXPECT_EQ(base64UrlDecode("abcde"), std::nullopt);
}

TEST(Authenticator, KeysIdentifyTheirIntegrator) {
  Authenticator authenticator({{"crm", "key-one"}, {"web", "key-two"}}, "", std::chrono::hours(1));
  auto result = authenticator.authenticate("Bearer key-two", Clock::now());
  ASSERT_TRUE(result.principal);
  EXPECT_TRUE(result.principal->integrator());
  EXPECT_EQ(result.principal->id, "web");
  EXPECT_TRUE(authenticator.authenticate("bearer   key-one ", Clock::now()).principal);
  EXPECT_EQ(authenticator.authenticate("Bearer key-three", Clock::now()).failure,
            AuthFailure::UnknownKey);
  EXPECT_EQ(authenticator.authenticate("", Clock::now()).failure, AuthFailure::Missing);
  EXPECT_EQ(authenticator.authenticate("key-one", Clock::now()).failure, AuthFailure::Malformed);
}

TEST(Authenticator, TokensNameTheirAgentUntilTheyExpire) {
  Authenticator authenticator({}, kSecret, std::chrono::minutes(10));
  auto now = Clock::now();
  auto issued = authenticator.issue("agent/with.odd chars", now);
  auto result = authenticator.authenticateCredential(issued.token, now + std::chrono::minutes(9));
  ASSERT_TRUE(result.principal);
  EXPECT_TRUE(result.principal->agent());
  EXPECT_EQ(result.principal->id, "agent/with.odd chars");
  EXPECT_EQ(
      authenticator.authenticateCredential(issued.token, now + std::chrono::minutes(11)).failure,
      AuthFailure::Expired);
}

TEST(Authenticator, AChangedExpiryBreaksTheSignature) {
  Authenticator authenticator({}, kSecret, std::chrono::minutes(10));
  auto issued = authenticator.issue("alice", Clock::now());
  auto parts = issued.token;
  auto last = parts.rfind('.');
  auto expiryStart = parts.rfind('.', last - 1) + 1;
  std::string later = parts.substr(0, expiryStart) + "99999999999" + parts.substr(last);
  EXPECT_EQ(authenticator.authenticateCredential(later, Clock::now()).failure,
            AuthFailure::BadToken);
  EXPECT_EQ(authenticator.authenticateCredential("sbt1.garbage", Clock::now()).failure,
            AuthFailure::BadToken);
}

TEST(Authenticator, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
}

} // namespace
} // namespace switchboard::api
