#include "switchboard/attachment_store.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace switchboard {
namespace {

constexpr std::string_view kPrefix = "sha256:";

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

void syncPath(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    fail("cannot open", path);
  }
  int status = ::fsync(fd);
  ::close(fd);
  if (status != 0) {
    fail("cannot sync", path);
  }
}

void writeDurably(const std::filesystem::path& target, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  std::filesystem::path temporary = target.parent_path() / (".tmp." + std::to_string(::getpid()) +
                                                            "." + std::to_string(counter++));
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    fail("cannot create", temporary);
  }
  const char* next = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t written = ::write(fd, next, left);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      ::close(fd);
      std::filesystem::remove(temporary);
      fail("cannot write", temporary);
    }
    next += written;
    left -= static_cast<std::size_t>(written);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("cannot sync", temporary);
  }
  ::close(fd);
  std::filesystem::rename(temporary, target);
  syncPath(target.parent_path(), O_RDONLY | O_DIRECTORY);
}

} // namespace

std::string sha256Digest(std::string_view bytes) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(bytes.data(), static_cast<unsigned>(bytes.size()));
  return std::string(kPrefix) + Poco::DigestEngine::digestToHex(engine.digest());
}

AttachmentStore::AttachmentStore(std::filesystem::path root) : root_(std::move(root)) {
  std::filesystem::create_directories(root_);
}

std::filesystem::path AttachmentStore::pathOf(std::string_view hex) const {
  // Two levels of fan-out keep folders small with millions of attachments.
  return root_ / std::string(hex.substr(0, 2)) / std::string(hex.substr(2, 2)) / std::string(hex);
}

Attachment AttachmentStore::put(std::string_view bytes, std::optional<std::string> name,
                                std::string type) {
  Attachment attachment;
  attachment.digest = sha256Digest(bytes);
  attachment.size = static_cast<std::int64_t>(bytes.size());
  attachment.name = std::move(name);
  attachment.type = std::move(type);
  attachment.ref = "att:" + attachment.digest;
  std::filesystem::path path = pathOf(std::string_view(attachment.digest).substr(kPrefix.size()));
  if (!std::filesystem::exists(path)) {
    std::filesystem::create_directories(path.parent_path());
    writeDurably(path, bytes);
  }
  return attachment;
}

std::optional<std::string> AttachmentStore::get(std::string_view digest) const {
  if (!digest.starts_with(kPrefix) || digest.size() != kPrefix.size() + 64 ||
      digest.substr(kPrefix.size()).find_first_not_of("0123456789abcdef") !=
          std::string_view::npos) {
    return std::nullopt;
  }
  std::ifstream file(pathOf(digest.substr(kPrefix.size())), std::ios::binary);
  if (!file) {
    return std::nullopt;
  }
  std::ostringstream content;
  content << file.rdbuf();
  return std::move(content).str();
}

} // namespace switchboard
