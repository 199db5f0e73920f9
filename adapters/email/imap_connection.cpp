#include "imap_connection.h"

#include <curl/curl.h>
#include <poll.h>

#include <charconv>
#include <mutex>
#include <optional>

namespace switchboard::email {
namespace {

// A response line longer than this is not IMAP this driver can use (mail content arrives in
// literals, which have no such limit).
constexpr std::size_t kMaxLine = 16u << 20;

void initialiseCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The literal announced at the end of `line` ("{123}" or the non-synchronising "{123+}").
std::optional<std::size_t> literalAt(std::string_view line) {
  if (line.empty() || line.back() != '}') {
    return std::nullopt;
  }
  std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  if (!digits.empty() && digits.back() == '+') {
    digits.remove_suffix(1);
  }
  std::size_t count = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return count;
}

} // namespace

struct ImapConnection::Curl {
  CURL* handle = nullptr;
  curl_socket_t socket = CURL_SOCKET_BAD;
  ~Curl() {
    if (handle != nullptr) {
      curl_easy_cleanup(handle);
    }
  }
};

ImapConnection::ImapConnection(const MailServer& server, const std::string& user,
                               const std::string& password)
    : curl_(std::make_unique<Curl>()), timeout_(server.timeout) {
  initialiseCurl();
  curl_->handle = curl_easy_init();
  if (curl_->handle == nullptr) {
    throw ImapError("libcurl cannot make a handle");
  }
  CURL* h = curl_->handle;
  std::string host =
      server.host.find(':') != std::string::npos ? "[" + server.host + "]" : server.host;
  std::string url = std::string(server.tls == TlsMode::Implicit ? "imaps://" : "imap://") + host +
                    ":" + std::to_string(server.port) + "/";
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, user.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());
  curl_easy_setopt(
      h, CURLOPT_USE_SSL,
      static_cast<long>(server.tls == TlsMode::StartTls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  if (!server.caFile.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, server.caFile.c_str());
  }
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, server.verifyPeer ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, server.verifyPeer ? 2L : 0L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(server.timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // libcurl stops once connected, secured and logged in; the commands below are this class's.
  curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
  CURLcode result = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (result != CURLE_OK) {
    throw ImapError("cannot log in to " + url + " as " + user + ": " +
                    (error[0] != 0 ? std::string(error) : curl_easy_strerror(result)));
  }
  if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &curl_->socket) != CURLE_OK ||
      curl_->socket == CURL_SOCKET_BAD) {
    throw ImapError("libcurl gives no socket for " + url);
  }
}

ImapConnection::~ImapConnection() {
  if (!broken_) {
    try {
      command("LOGOUT");
    } catch (const std::exception&) {
      // The server went away first; nothing is left to tidy.
    }
  }
}

std::string ImapConnection::quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + '"';
}

ImapResponse ImapConnection::require(std::string_view text) {
  ImapResponse response = command(text);
  if (!response.ok()) {
    throw ImapError(std::string(text.substr(0, text.find(' ', text.starts_with("UID ") ? 4 : 0))) +
                    " failed: " + response.status + " " + response.text);
  }
  return response;
}

ImapResponse ImapConnection::command(std::string_view text) {
  return read(send(text), text);
}

std::string ImapConnection::send(std::string_view text) {
  if (broken_) {
    throw ImapError("the connection failed before");
  }
  std::string tag = "s" + std::to_string(++tag_);
  try {
    write(tag + " " + std::string(text) + "\r\n");
  } catch (const ImapError&) {
    broken_ = true;
    throw;
  }
  return tag;
}

ImapResponse ImapConnection::receive(const std::string& tag) {
  ImapResponse response = read(tag, "");
  if (!response.ok()) {
    throw ImapError("command " + tag + " failed: " + response.status + " " + response.text);
  }
  return response;
}

ImapResponse ImapConnection::read(const std::string& tag, std::string_view what) {
  if (broken_) {
    throw ImapError("the connection failed before");
  }
  try {
    ImapResponse response;
    for (;;) {
      std::string line = readLine();
      if (line.starts_with(tag + " ")) {
        std::string_view rest = std::string_view(line).substr(tag.size() + 1);
        std::size_t space = rest.find(' ');
        response.status = std::string(rest.substr(0, space));
        response.text = space == std::string_view::npos ? "" : std::string(rest.substr(space + 1));
        return response;
      }
      ImapUntagged untagged;
      while (std::optional<std::size_t> count = literalAt(line)) {
        untagged.literals.push_back(readBytes(*count));
        untagged.line += line;
        line = readLine();
      }
      untagged.line += line;
      if (untagged.line.starts_with("* BYE")) {
        // The server closes after this; the tagged answer may never come.
        response.untagged.push_back(std::move(untagged));
        if (what != "LOGOUT") {
          throw ImapError("the server closed the connection: " + response.untagged.back().line);
        }
        continue;
      }
      response.untagged.push_back(std::move(untagged));
    }
  } catch (const ImapError&) {
    broken_ = true;
    throw;
  }
}

void ImapConnection::write(std::string_view bytes) {
  while (!bytes.empty()) {
    std::size_t sent = 0;
    CURLcode result = curl_easy_send(curl_->handle, bytes.data(), bytes.size(), &sent);
    if (result == CURLE_AGAIN) {
      pollfd fd{curl_->socket, POLLOUT, 0};
      if (::poll(&fd, 1, static_cast<int>(timeout_.count())) <= 0) {
        throw ImapError("timed out sending to the IMAP server");
      }
      continue;
    }
    if (result != CURLE_OK) {
      throw ImapError(std::string("cannot send to the IMAP server: ") + curl_easy_strerror(result));
    }
    bytes.remove_prefix(sent);
  }
}

void ImapConnection::fill() {
  if (position_ > 0 && position_ == buffer_.size()) {
    buffer_.clear();
    position_ = 0;
  } else if (position_ > (1u << 20)) {
    buffer_.erase(0, position_);
    position_ = 0;
  }
  char chunk[65536];
  for (;;) {
    std::size_t got = 0;
    CURLcode result = curl_easy_recv(curl_->handle, chunk, sizeof chunk, &got);
    if (result == CURLE_AGAIN) {
      pollfd fd{curl_->socket, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(timeout_.count())) <= 0) {
        throw ImapError("timed out waiting for the IMAP server");
      }
      continue;
    }
    if (result != CURLE_OK) {
      throw ImapError(std::string("cannot read from the IMAP server: ") +
                      curl_easy_strerror(result));
    }
    if (got == 0) {
      throw ImapError("the IMAP server closed the connection");
    }
    buffer_.append(chunk, got);
    return;
  }
}

std::string ImapConnection::readLine() {
  std::size_t searched = position_;
  for (;;) {
    std::size_t end = buffer_.find('\n', searched);
    if (end != std::string::npos) {
      std::size_t stop = end > position_ && buffer_[end - 1] == '\r' ? end - 1 : end;
      std::string line = buffer_.substr(position_, stop - position_);
      position_ = end + 1;
      return line;
    }
    if (buffer_.size() - position_ > kMaxLine) {
      throw ImapError("a response line from the IMAP server is over 16 MiB");
    }
    searched = buffer_.size();
    std::size_t before = position_;
    fill();
    // fill() may have moved the unread bytes to the front.
    searched -= before - position_;
  }
}

std::string ImapConnection::readBytes(std::size_t count) {
  std::string bytes;
  bytes.reserve(count);
  while (bytes.size() < count) {
    if (position_ == buffer_.size()) {
      fill();
    }
    std::size_t take = std::min(count - bytes.size(), buffer_.size() - position_);
    bytes.append(buffer_, position_, take);
    position_ += take;
  }
  return bytes;
}

} // namespace switchboard::email
