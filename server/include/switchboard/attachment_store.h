#pragma once

// Attachments are kept once, by the SHA-256 of their bytes, in a folder of files; messages carry
// only references (name, type, size, digest). The same bytes arriving twice are stored once.

#include "switchboard/message.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard {

class AttachmentStore {
 public:
  /// Keeps attachments under `root` (created when missing).
  explicit AttachmentStore(std::filesystem::path root);

  /// Stores `bytes` unless bytes with the same digest are stored already, and returns their
  /// reference. Durable on return: written to a temporary file, synced, renamed into place, and
  /// the folder synced. Thread-safe. Throws std::runtime_error when the disk refuses.
  Attachment put(std::string_view bytes, std::optional<std::string> name, std::string type);

  /// The bytes with digest `digest` ("sha256:" and 64 hex digits), or nothing.
  std::optional<std::string> get(std::string_view digest) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path pathOf(std::string_view hex) const;

  std::filesystem::path root_;
};

/// "sha256:" and the 64 lower-case hex digits of the SHA-256 of `bytes`.
std::string sha256Digest(std::string_view bytes);

} // namespace switchboard
