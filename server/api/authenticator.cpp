#include "authenticator.h"

#include "http_text.h"

#include <Poco/SHA2Engine.h>

#include <charconv>
#include <stdexcept>

namespace switchboard::api {

namespace {

constexpr std::string_view kTokenPrefix = "sbt1.";
constexpr std::size_t kMinSecretBytes = 32;
constexpr std::size_t kShaBlockBytes = 64;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

} // namespace

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

std::string sha256(std::string_view data) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(data.data(), static_cast<unsigned>(data.size()));
  const auto& digest = engine.digest();
  return std::string(digest.begin(), digest.end());
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  std::string block = key.size() > kShaBlockBytes ? sha256(key) : std::string(key);
  block.resize(kShaBlockBytes, '\0');
  std::string inner(kShaBlockBytes, '\0');
  std::string outer(kShaBlockBytes, '\0');
  for (std::size_t i = 0; i < kShaBlockBytes; ++i) {
    inner[i] = static_cast<char>(block[i] ^ 0x36);
    outer[i] = static_cast<char>(block[i] ^ 0x5c);
  }
  inner.append(data);
  outer += sha256(inner);
  return sha256(outer);
}

std::string base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
             (static_cast<unsigned char>(bytes[i + 1]) << 8) |
             static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    auto n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
             (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    auto at = kAlphabet.find(c);
    if (at == std::string_view::npos) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<unsigned>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Authenticator::Authenticator(std::vector<ApiKey> keys, std::string tokenSecret,
                             std::chrono::seconds lifetime)
    : tokenSecret_(std::move(tokenSecret)), lifetime_(lifetime) {
  for (auto& key : keys) {
    if (key.secret.empty()) {
      throw std::invalid_argument("API key '" + key.name + "' has no secret");
    }
    keys_.push_back({std::move(key.name), sha256(key.secret)});
  }
  if (!tokenSecret_.empty() && tokenSecret_.size() < kMinSecretBytes) {
    throw std::invalid_argument("the agent token secret must be at least 32 bytes");
  }
  if (lifetime_.count() <= 0) {
    throw std::invalid_argument("the agent token lifetime must be positive");
  }
}

std::string Authenticator::sign(std::string_view payload) const {
  return base64UrlEncode(hmacSha256(tokenSecret_, payload));
}

IssuedToken Authenticator::issue(const std::string& agentId, Clock::time_point now) const {
  if (!tokensEnabled()) {
    throw std::logic_error("agent tokens are not configured");
  }
  auto expires = std::chrono::time_point_cast<std::chrono::seconds>(now) + lifetime_;
  std::string payload(kTokenPrefix);
  payload += base64UrlEncode(agentId);
  payload += '.';
  payload += std::to_string(expires.time_since_epoch().count());
  std::string token = payload + "." + sign(payload);
  return {std::move(token), expires};
}

AuthResult Authenticator::authenticate(std::string_view authorization,
                                       Clock::time_point now) const {
  authorization = trimWhiteSpace(authorization);
  if (authorization.empty()) {
    return {std::nullopt, AuthFailure::Missing};
  }
  auto space = authorization.find(' ');
  if (space == std::string_view::npos ||
      !namedInAnyCase(authorization.substr(0, space), "bearer")) {
    return {std::nullopt, AuthFailure::Malformed};
  }
  return authenticateCredential(trimWhiteSpace(authorization.substr(space + 1)), now);
}

AuthResult Authenticator::authenticateCredential(std::string_view credential,
                                                 Clock::time_point now) const {
  if (credential.empty()) {
    return {std::nullopt, AuthFailure::Malformed};
  }
  if (credential.starts_with(kTokenPrefix) && tokensEnabled()) {
    auto dot = credential.rfind('.');
    std::string_view payload = credential.substr(0, dot);
    if (!constantTimeEquals(sign(payload), credential.substr(dot + 1))) {
      return {std::nullopt, AuthFailure::BadToken};
    }
    auto rest = payload.substr(kTokenPrefix.size());
    auto idEnd = rest.find('.');
    if (idEnd == std::string_view::npos) {
      return {std::nullopt, AuthFailure::BadToken};
    }
    auto agentId = base64UrlDecode(rest.substr(0, idEnd));
    auto expiryText = rest.substr(idEnd + 1);
    long long expiry = 0;
    auto parsed = std::from_chars(expiryText.data(), expiryText.data() + expiryText.size(), expiry);
    if (!agentId || agentId->empty() || parsed.ec != std::errc() ||
        parsed.ptr != expiryText.data() + expiryText.size()) {
      return {std::nullopt, AuthFailure::BadToken};
    }
    if (std::chrono::time_point_cast<std::chrono::seconds>(now).time_since_epoch().count() >=
        expiry) {
      return {std::nullopt, AuthFailure::Expired};
    }
    return {Principal{Principal::Kind::Agent, std::move(*agentId)}, AuthFailure::Missing};
  }
  std::string digest = sha256(credential);
  const Key* found = nullptr;
  for (const auto& key : keys_) {
    if (constantTimeEquals(digest, key.digest) && found == nullptr) {
      found = &key;
    }
  }
  if (found == nullptr) {
    return {std::nullopt, AuthFailure::UnknownKey};
  }
  return {Principal{Principal::Kind::Integrator, found->name}, AuthFailure::Missing};
}

std::string Authenticator::challenge(AuthFailure failure) {
  switch (failure) {
  case AuthFailure::Missing:
    return "Bearer realm=\"switchboard\"";
  case AuthFailure::Malformed:
    return "Bearer realm=\"switchboard\", error=\"invalid_request\"";
  case AuthFailure::UnknownKey:
  case AuthFailure::BadToken:
  case AuthFailure::Expired:
    return "Bearer realm=\"switchboard\", error=\"invalid_token\", error_description=\"" +
           std::string(describe(failure)) + "\"";
  }
  return "Bearer realm=\"switchboard\"";
}

std::string_view Authenticator::describe(AuthFailure failure) {
  switch (failure) {
  case AuthFailure::Missing:
    return "the request has no Authorization header";
  case AuthFailure::Malformed:
    return "the Authorization header is not 'Bearer <credential>'";
  case AuthFailure::UnknownKey:
    return "the key or token is not valid";
  case AuthFailure::BadToken:
    return "the token is not valid";
  case AuthFailure::Expired:
    return "the token has expired";
  }
  return "not authenticated";
}

} // namespace switchboard::api
