// Feeds arbitrary bytes to MessageCodec::decode. Besides not crashing (ASan and UBSan watch), it
// checks a property: whatever decodes, encodes to a document that decodes to the same values.

#include "switchboard/message_codec.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const switchboard::MessageCodec codec;
  auto decoded = codec.decode({reinterpret_cast<const char*>(data), size});
  if (!decoded.ok()) {
    return 0;
  }
  std::string encoded = codec.encode(*decoded);
  auto again = codec.decode(encoded);
  if (!again.ok()) {
    std::fprintf(stderr, "re-encoded message does not decode: %s\n%s\n",
                 again.error().toString().c_str(), encoded.c_str());
    std::abort();
  }
  if (!(*again == *decoded)) {
    std::fprintf(stderr, "re-encoded message decodes to other values:\n%s\n", encoded.c_str());
    std::abort();
  }
  return 0;
}
