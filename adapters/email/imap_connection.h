#pragma once

// One logged-in IMAP connection. libcurl connects, secures (implicit TLS or STARTTLS, with
// certificate and host name checks) and logs in; the commands a mailbox source needs and libcurl
// does not offer (UID SEARCH, batched UID FETCH, UID STORE, UID MOVE) are then sent over that
// connection, and their responses read with literals taken by their announced byte count, so no
// mail content is ever mistaken for a response line (docs/decisions/0004-imap-over-libcurl.md).

#include "mail_account.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::email {

/// The connection failed (cannot connect, TLS, login refused, broken or timed-out stream), or a
/// command that had to succeed got NO or BAD. The connection is unusable after a failure of the
/// first kind; open a new one.
class ImapError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One untagged response ("* ..."), with the literals it carried in order. In `line`, each
/// literal is left as its announcement "{N}".
struct ImapUntagged {
  std::string line;
  std::vector<std::string> literals;
};

struct ImapResponse {
  std::string status; ///< "OK", "NO" or "BAD"
  std::string text;   ///< the rest of the tagged line
  std::vector<ImapUntagged> untagged;
  bool ok() const { return status == "OK"; }
};

class ImapConnection {
 public:
  /// Connects to `server` and logs in as `user`. Throws ImapError with libcurl's reason.
  ImapConnection(const MailServer& server, const std::string& user, const std::string& password);
  /// Logs out when the connection is still usable.
  ~ImapConnection();
  ImapConnection(const ImapConnection&) = delete;
  ImapConnection& operator=(const ImapConnection&) = delete;

  /// Sends one command (without tag and line end) and reads its whole response. NO and BAD are
  /// returned, not thrown.
  ImapResponse command(std::string_view text);
  /// Like command(), but throws ImapError (naming the command's verb) unless the answer is OK.
  ImapResponse require(std::string_view text);

  /// Sends a command without waiting for its answer and returns its tag, so that the server
  /// works on it while the caller does something else. Answers are read in the order the
  /// commands were sent: read this one with receive() before the answer of any later command.
  std::string send(std::string_view text);
  /// Reads the whole answer to the command tagged `tag`; throws ImapError unless it is OK.
  ImapResponse receive(const std::string& tag);

  /// `text` as an IMAP quoted string.
  static std::string quoted(std::string_view text);

 private:
  void write(std::string_view bytes);
  ImapResponse read(const std::string& tag, std::string_view what);
  /// Reads more bytes into the buffer; throws on end of stream or timeout.
  void fill();
  std::string readLine();
  std::string readBytes(std::size_t count);

  struct Curl;
  std::unique_ptr<Curl> curl_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  std::size_t position_ = 0;
  unsigned tag_ = 0;
  bool broken_ = false;
};

} // namespace switchboard::email
