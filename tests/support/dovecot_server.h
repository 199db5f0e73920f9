#pragma once

// A real Dovecot (IMAP and POP3) for tests and benchmarks, on loopback: a private configuration
// in a temporary folder (state, logs, a passwd-file of test users, Maildir mail under mail/USER),
// free ports, and optionally TLS with a self-signed certificate made with openssl (imaps and
// pop3s listeners; STARTTLS on the plain ones). Started in the foreground as a child process and
// stopped (SIGTERM, then waited for) by the destructor, so a failing test never leaves it behind.
// Mail is delivered by writing into the user's Maildir, through tmp/ as a delivery agent does.

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::testing {

struct DovecotOptions {
  /// user -> password
  std::map<std::string, std::string> users{{"support", "support-secret"}};
  /// Make a self-signed certificate and open imaps and pop3s listeners too.
  bool tls = false;
};

class DovecotServer {
 public:
  explicit DovecotServer(DovecotOptions options = {}) : options_(std::move(options)) {
    dir_ = std::filesystem::temp_directory_path() /
           ("sb-dovecot-" + std::to_string(::getpid()) + "-" + std::to_string(++counter()));
    std::filesystem::remove_all(dir_);
    for (const char* folder : {"run", "state", "mail"}) {
      std::filesystem::create_directories(dir_ / folder);
    }
    // Dovecot's unprivileged processes must reach the configuration and the mail.
    std::filesystem::permissions(
        dir_, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                  std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                  std::filesystem::perms::others_exec);
    chooseUsers();
    imapPort_ = freePort();
    pop3Port_ = freePort();
    if (options_.tls) {
      imapsPort_ = freePort();
      pop3sPort_ = freePort();
      makeCertificate();
    }
    writeConfig();
    for (const auto& [user, password] : options_.users) {
      for (const char* folder : {"new", "cur", "tmp"}) {
        std::filesystem::create_directories(maildir(user) / folder);
      }
      own(dir_ / "mail" / user);
      for (const char* folder : {"new", "cur", "tmp"}) {
        own(maildir(user) / folder);
      }
    }
  }

  ~DovecotServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  DovecotServer(const DovecotServer&) = delete;
  DovecotServer& operator=(const DovecotServer&) = delete;

  /// Starts Dovecot and waits until its listeners accept; throws with its log when it does not.
  void start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      // A test killed by its runner's timeout takes its Dovecot with it.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      // Dovecot keeps the caller's standard streams open: give it none of ours.
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, STDIN_FILENO);
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
      std::string config = (dir_ / "dovecot.conf").string();
      ::execlp("dovecot", "dovecot", "-F", "-c", config.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::vector<int> ports{imapPort_, pop3Port_};
    if (options_.tls) {
      ports.push_back(imapsPort_);
      ports.push_back(pop3sPort_);
    }
    for (int port : ports) {
      while (!accepts(port)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          throw std::runtime_error("dovecot exited at start:\n" + log());
        }
        if (std::chrono::steady_clock::now() > deadline) {
          stop();
          throw std::runtime_error("dovecot does not listen on " + std::to_string(port) + ":\n" +
                                   log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }

  void stop() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  int imapPort() const { return imapPort_; }
  int pop3Port() const { return pop3Port_; }
  int imapsPort() const { return imapsPort_; }
  int pop3sPort() const { return pop3sPort_; }
  /// The self-signed certificate (PEM) to trust; empty without TLS.
  std::filesystem::path certificate() const { return options_.tls ? dir_ / "cert.pem" : ""; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string password(const std::string& user) const { return options_.users.at(user); }
  std::filesystem::path maildir(const std::string& user) const { return dir_ / "mail" / user; }

  /// Delivers `content` into `user`'s INBOX, as a new mail named `name` (unique per mailbox).
  void deliver(const std::string& user, const std::string& name, const std::string& content) {
    std::filesystem::path temporary = maildir(user) / "tmp" / name;
    {
      std::ofstream out(temporary, std::ios::binary);
      out << content;
      if (!out) {
        throw std::runtime_error("cannot write " + temporary.string());
      }
    }
    own(temporary);
    std::filesystem::rename(temporary, maildir(user) / "new" / name);
  }

  /// The mails in `user`'s INBOX (new/ and cur/), as files on disk.
  std::size_t mailCount(const std::string& user) const {
    std::size_t count = 0;
    for (const char* folder : {"new", "cur"}) {
      for (const auto& entry : std::filesystem::directory_iterator(maildir(user) / folder)) {
        count += entry.is_regular_file() ? 1 : 0;
      }
    }
    return count;
  }

  std::string log() const {
    std::ifstream in(dir_ / "dovecot.log");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  static int& counter() {
    static int value = 0;
    return value;
  }

  static int freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(fd);
      throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  static bool accepts(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
  }

  // As root, Dovecot runs its login and internal processes as its own users and the mail
  // processes under the "dovecot" uid (it refuses uid 0); as anyone else, everything runs as
  // the caller.
  void chooseUsers() {
    if (::getuid() == 0) {
      if (::getpwnam("dovenull") == nullptr) {
        throw std::runtime_error("the user dovenull is missing (install dovecot-core)");
      }
      const passwd* dovecot = ::getpwnam("dovecot");
      if (dovecot == nullptr) {
        throw std::runtime_error("the user dovecot is missing (install dovecot-core)");
      }
      mailUid_ = dovecot->pw_uid;
      mailGid_ = dovecot->pw_gid;
      loginUser_ = "dovenull";
      internalUser_ = "dovecot";
    } else {
      const passwd* self = ::getpwuid(::getuid());
      if (self == nullptr) {
        throw std::runtime_error("the current user has no name");
      }
      mailUid_ = self->pw_uid;
      mailGid_ = self->pw_gid;
      loginUser_ = self->pw_name;
      internalUser_ = self->pw_name;
      const group* own = ::getgrgid(::getgid());
      if (own == nullptr) {
        throw std::runtime_error("the current group has no name");
      }
      internalGroup_ = own->gr_name;
    }
  }

  void own(const std::filesystem::path& path) const {
    if (::getuid() == 0 && ::chown(path.c_str(), mailUid_, mailGid_) != 0) {
      throw std::runtime_error("cannot chown " + path.string());
    }
  }

  void makeCertificate() {
    std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
                          " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
                          (dir_ / "key.pem").string() + "' -out '" + (dir_ / "cert.pem").string() +
                          "' >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("openssl cannot make a test certificate");
    }
    std::filesystem::permissions(dir_ / "key.pem", std::filesystem::perms::owner_read |
                                                       std::filesystem::perms::owner_write);
  }

  void writeConfig() {
    {
      std::ofstream passwd(dir_ / "passwd");
      for (const auto& [user, password] : options_.users) {
        passwd << user << ":{PLAIN}" << password << "::::::\n";
      }
    }
    const std::string d = dir_.string();
    std::ofstream conf(dir_ / "dovecot.conf");
    conf << "base_dir = " << d << "/run\n"
         << "state_dir = " << d << "/state\n"
         << "log_path = " << d << "/dovecot.log\n"
         << "protocols = imap pop3\n"
         << "listen = 127.0.0.1\n"
         << "disable_plaintext_auth = no\n"
         << "auth_mechanisms = plain login\n"
         << "default_login_user = " << loginUser_ << "\n"
         << "default_internal_user = " << internalUser_ << "\n"
         << (internalGroup_.empty() ? "" : "default_internal_group = " + internalGroup_ + "\n")
         << "mail_location = maildir:" << d << "/mail/%u\n"
         << "pop3_uidl_format = %08Xu%08Xv\n"
         << "first_valid_uid = " << mailUid_ << "\n"
         << "mail_max_userip_connections = 100\n"
         << "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN " << d << "/passwd\n}\n"
         << "userdb {\n  driver = static\n  args = uid=" << mailUid_ << " gid=" << mailGid_
         << " home=" << d << "/mail/%u\n}\n";
    if (options_.tls) {
      conf << "ssl = yes\nssl_cert = <" << d << "/cert.pem\nssl_key = <" << d << "/key.pem\n";
    } else {
      conf << "ssl = no\n";
    }
    // Port 0 turns a listener off. Without root, no process can chroot.
    const char* secure = options_.tls ? "\n    ssl = yes" : "";
    const char* chroot = ::getuid() == 0 ? "" : "  chroot =\n";
    if (::getuid() != 0) {
      conf << "service anvil {\n  chroot =\n}\n";
    }
    conf << "service imap-login {\n"
         << chroot << "  inet_listener imap {\n    port = " << imapPort_
         << "\n  }\n  inet_listener imaps {\n    port = " << imapsPort_ << secure << "\n  }\n}\n"
         << "service pop3-login {\n"
         << chroot << "  inet_listener pop3 {\n    port = " << pop3Port_
         << "\n  }\n  inet_listener pop3s {\n    port = " << pop3sPort_ << secure << "\n  }\n}\n";
  }

  DovecotOptions options_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int imapPort_ = 0;
  int pop3Port_ = 0;
  int imapsPort_ = 0;
  int pop3sPort_ = 0;
  uid_t mailUid_ = 0;
  gid_t mailGid_ = 0;
  std::string loginUser_;
  std::string internalUser_;
  std::string internalGroup_; ///< empty: Dovecot's own
};

} // namespace switchboard::testing
