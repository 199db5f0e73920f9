#include "webhook_signature.h"

#include <Poco/DigestEngine.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

namespace switchboard::webhooks {

namespace {

// HMACEngine needs the digest's sizes as constants of the engine type.
class Sha256Engine : public Poco::SHA2Engine {
 public:
  enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
  Sha256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};

} // namespace

std::string signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  Poco::HMACEngine<Sha256Engine> hmac{std::string(secret)};
  hmac.update(timestamp.data(), static_cast<unsigned>(timestamp.size()));
  hmac.update('.');
  hmac.update(body.data(), static_cast<unsigned>(body.size()));
  return "sha256=" + Poco::DigestEngine::digestToHex(hmac.digest());
}

} // namespace switchboard::webhooks
