#pragma once

// Finding and reading the project's test data from any test executable.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::testing {

/// The project's source folder (set by the build).
inline std::filesystem::path sourceDir() {
  return SWITCHBOARD_SOURCE_DIR;
}

/// The bytes of `path`; throws when it cannot be read, so a missing fixture fails loudly.
inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw std::runtime_error("cannot read " + path.string());
  }
  std::ostringstream content;
  content << file.rdbuf();
  return std::move(content).str();
}

/// The files in `folder` (relative to the source folder) whose names end in `suffix`, sorted;
/// throws when there are none, so that a test over a corpus can never pass on an empty one.
inline std::vector<std::filesystem::path> filesIn(std::string_view folder,
                                                  std::string_view suffix) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(sourceDir() / folder)) {
    if (entry.is_regular_file() && entry.path().string().ends_with(suffix)) {
      files.push_back(entry.path());
    }
  }
  if (files.empty()) {
    throw std::runtime_error("no *" + std::string(suffix) + " files in " + std::string(folder));
  }
  std::sort(files.begin(), files.end());
  return files;
}

} // namespace switchboard::testing
