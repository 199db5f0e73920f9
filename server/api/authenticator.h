#pragma once

// Integrator keys and agent tokens.
//
// An agent token is stateless: "sbt1.<agent id, base64url>.<expiry, Unix seconds>.<signature>",
// the signature being base64url(HMAC-SHA256(secret, everything before it)). Changing the secret
// invalidates every token issued with it. Secrets are compared in constant time.

#include "switchboard/http_api.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::api {

/// Why a request was not authenticated; each has its WWW-Authenticate challenge.
enum class AuthFailure { Missing, Malformed, UnknownKey, BadToken, Expired };

struct AuthResult {
  std::optional<Principal> principal;
  AuthFailure failure = AuthFailure::Missing;
};

struct IssuedToken {
  std::string token;
  std::chrono::sys_seconds expires;
};

class Authenticator {
 public:
  using Clock = std::chrono::system_clock;

  /// Throws std::invalid_argument for a key without a secret or a token secret shorter than
  /// 32 bytes (and not empty).
  Authenticator(std::vector<ApiKey> keys, std::string tokenSecret, std::chrono::seconds lifetime);

  /// Checks "Authorization" header text ("Bearer <key or token>").
  AuthResult authenticate(std::string_view authorization, Clock::time_point now) const;
  /// Checks a bare key or token (from a query parameter).
  AuthResult authenticateCredential(std::string_view credential, Clock::time_point now) const;

  bool tokensEnabled() const { return !tokenSecret_.empty(); }
  /// A token for `agentId` valid for the configured lifetime from `now`. Requires
  /// tokensEnabled().
  IssuedToken issue(const std::string& agentId, Clock::time_point now) const;

  /// The WWW-Authenticate value for a failure (RFC 6750).
  static std::string challenge(AuthFailure failure);
  /// A short, stable text for the failure (problem detail, logs).
  static std::string_view describe(AuthFailure failure);

 private:
  struct Key {
    std::string name;
    std::string digest; ///< SHA-256 of the secret
  };
  std::string sign(std::string_view payload) const;

  std::vector<Key> keys_;
  std::string tokenSecret_;
  std::chrono::seconds lifetime_;
};

/// True when `a` and `b` are equal; the time taken depends only on their lengths.
bool constantTimeEquals(std::string_view a, std::string_view b);
std::string sha256(std::string_view data);
std::string hmacSha256(std::string_view key, std::string_view data);
std::string base64UrlEncode(std::string_view bytes);
/// Nothing when `text` is not unpadded base64url.
std::optional<std::string> base64UrlDecode(std::string_view text);
std::string hex(std::string_view bytes);

} // namespace switchboard::api
