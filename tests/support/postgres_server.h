#pragma once

// A private PostgreSQL server for tests: initdb into a fresh temporary folder, started on a free
// loopback port with its socket in that folder, stopped and removed by the destructor (which runs
// when a test fails, too). When the tests run as root, the server commands run as the `postgres`
// system user, since initdb refuses root.
//
// PostgreSQL missing is an error, not a reason to skip: the constructor throws with a message
// that says how to install it.

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::testing {

class PostgresServer {
 public:
  /// Starts the server (about a second). Throws std::runtime_error naming what failed.
  PostgresServer() {
    bin_ = findBinaries();
    char pattern[] = "/tmp/switchboard-pg-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      throw std::runtime_error(std::string("PostgresServer: mkdtemp: ") + std::strerror(errno));
    }
    dir_ = pattern;
    try {
      if (::geteuid() == 0) {
        const passwd* user = ::getpwnam("postgres");
        if (user == nullptr) {
          throw std::runtime_error("PostgresServer: running as root, but there is no 'postgres' "
                                   "user to run the server as (install the postgresql package)");
        }
        uid_ = user->pw_uid;
        gid_ = user->pw_gid;
        if (::chown(dir_.c_str(), uid_, gid_) != 0) {
          throw std::runtime_error("PostgresServer: chown " + dir_.string() + ": " +
                                   std::strerror(errno));
        }
      }
      runOrThrow({(bin_ / "initdb").string(), "-D", dataDir(), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync"},
                 "initdb");
      port_ = freePort();
      start();
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw;
    }
  }

  ~PostgresServer() {
    if (running_) {
      run({(bin_ / "pg_ctl").string(), "-D", dataDir(), "-m", "immediate", "-w", "stop"});
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }

  /// A libpq connection string for `database` on this server.
  std::string connectionString(const std::string& database) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + database +
           " user=postgres";
  }

  /// Creates an empty database. Throws std::runtime_error.
  void createDatabase(const std::string& name) {
    runOrThrow({(bin_ / "createdb").string(), "-h", "127.0.0.1", "-p", std::to_string(port_), "-U",
                "postgres", name},
               "createdb " + name);
  }

  /// Starts the server (again, after stop()), on the same port. Throws std::runtime_error.
  void start() {
    runOrThrow(
        {(bin_ / "pg_ctl").string(), "-D", dataDir(), "-l", (dir_ / "server.log").string(), "-o",
         "-p " + std::to_string(port_) + " -k " + dir_.string() + " -c listen_addresses=127.0.0.1",
         "-w", "start"},
        "pg_ctl start");
    running_ = true;
  }

  /// Stops the server at once (as a crash would). Throws std::runtime_error.
  void stop() {
    runOrThrow({(bin_ / "pg_ctl").string(), "-D", dataDir(), "-m", "immediate", "-w", "stop"},
               "pg_ctl stop");
    running_ = false;
  }

 private:
  static std::filesystem::path findBinaries() {
    std::filesystem::path root = "/usr/lib/postgresql";
    std::filesystem::path best;
    int bestVersion = -1;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(root, error)) {
      int version = std::atoi(entry.path().filename().c_str());
      if (version > bestVersion && std::filesystem::exists(entry.path() / "bin" / "pg_ctl")) {
        bestVersion = version;
        best = entry.path() / "bin";
      }
    }
    if (bestVersion < 0) {
      throw std::runtime_error("PostgreSQL is not installed: no /usr/lib/postgresql/<version>/bin/"
                               "pg_ctl. Install it with `./dev deps` (Debian package postgresql).");
    }
    return best;
  }

  static int freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      if (fd >= 0) {
        ::close(fd);
      }
      throw std::runtime_error(std::string("PostgresServer: no free port: ") +
                               std::strerror(errno));
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  std::string dataDir() const { return (dir_ / "data").string(); }

  // Runs `args` (as postgres when we are root) with its output appended to commands.log;
  // returns the exit status.
  int run(std::vector<std::string> args) const {
    if (uid_ != static_cast<uid_t>(-1)) {
      args.insert(args.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
    }
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::string log = (dir_ / "commands.log").string();
    pid_t pid = ::fork();
    if (pid < 0) {
      return -1;
    }
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
      int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) {
        ::dup2(null, 0);
        ::close(null);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void runOrThrow(std::vector<std::string> args, const std::string& what) const {
    if (run(std::move(args)) != 0) {
      std::ifstream file(dir_ / "commands.log");
      std::stringstream output;
      output << file.rdbuf();
      std::string text = output.str();
      if (text.size() > 2000) {
        text = text.substr(text.size() - 2000);
      }
      throw std::runtime_error("PostgresServer: " + what + " failed:\n" + text);
    }
  }

  std::filesystem::path bin_;
  std::filesystem::path dir_;
  uid_t uid_ = static_cast<uid_t>(-1);
  gid_t gid_ = static_cast<gid_t>(-1);
  int port_ = 0;
  bool running_ = false;
};

} // namespace switchboard::testing
