#pragma once

// Helpers for the configuration tests: a private temporary folder, a minimal valid
// configuration with chosen sections replaced, and finding a line in a file.

#include "tests/support/test_data.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

namespace switchboard::testing {

/// A fresh folder under the system's temporary folder, removed with everything in it.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sb-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot create a temporary folder");
    }
    path_ = std::filesystem::canonical(pattern);
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  const std::filesystem::path& path() const { return path_; }

  /// Writes `content` to `relative` (creating folders) and returns its full path.
  std::filesystem::path write(const std::filesystem::path& relative, std::string_view content) {
    std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

/// A valid configuration: the sections in `sections` (by element name: server, store, security,
/// logging, drivers, routing, agents, queues, rules, webhooks) replace the minimal ones or are
/// added.
inline std::string configWith(const std::map<std::string, std::string>& sections) {
  static const std::pair<std::string_view, std::string_view> kSections[] = {
      {"server", R"(<server id="sb-test">
    <listener port="0"/>
  </server>)"},
      {"store", R"(<store>
    <sqlite path="test.db"/>
  </store>)"},
      {"security", R"(<security>
    <apiKey name="crm" secret="test-secret-0123456789"/>
    <agentTokens secret="test-token-secret-0123456789abcdef0123"/>
  </security>)"},
      {"logging", ""},
      {"drivers", ""},
      {"routing", ""},
      {"agents", ""},
      {"queues", R"(<queues>
    <queue id="general"/>
  </queues>)"},
      {"rules", ""},
      {"webhooks", ""}};
  std::string document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<switchboard xmlns=\"urn:switchboard:config:v1\" version=\"1.0\">\n";
  for (const auto& [name, fallback] : kSections) {
    auto given = sections.find(std::string(name));
    std::string_view text = given != sections.end() ? std::string_view(given->second) : fallback;
    if (!text.empty()) {
      document += "  ";
      document += text;
      document += "\n";
    }
  }
  document += "</switchboard>\n";
  return document;
}

/// The 1-based number of the first line of `file` that contains `needle`; throws when none does.
inline std::size_t lineOf(const std::filesystem::path& file, std::string_view needle) {
  std::ifstream in(file);
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find(needle) != std::string::npos) {
      return number;
    }
  }
  throw std::runtime_error("no line with '" + std::string(needle) + "' in " + file.string());
}

} // namespace switchboard::testing
