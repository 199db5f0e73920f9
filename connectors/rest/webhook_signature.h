#pragma once

// The signature a web hook request carries, so that the CRM can tell it comes from Switchboard
// and was not changed or replayed much later:
//
//   X-Switchboard-Timestamp: 1763719200          (seconds since the epoch, when it was sent)
//   X-Switchboard-Signature: sha256=<hex>        (HMAC-SHA256 over "<timestamp>.<body>")
//
// The receiver recomputes the HMAC with the shared secret, compares in constant time, and
// refuses timestamps too far from its clock.

#include <string>
#include <string_view>

namespace switchboard::webhooks {

/// "sha256=" and the lower-case hex HMAC-SHA256 of "<timestamp>.<body>" under `secret`.
std::string signature(std::string_view secret, std::string_view timestamp, std::string_view body);

} // namespace switchboard::webhooks
