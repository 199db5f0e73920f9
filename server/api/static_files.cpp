#include "static_files.h"

#include "api_error.h"
#include "http_text.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace switchboard::api {

namespace {

constexpr std::array<std::string_view, 4> kApiSegments{"v1", "healthz", "readyz", "metrics"};

std::vector<std::string_view> splitSegments(std::string_view text) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    auto slash = text.find('/', start);
    segments.push_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) {
      return segments;
    }
    start = slash + 1;
  }
}

bool prefixSegmentOk(std::string_view segment) {
  return !segment.empty() && segment.front() != '.' &&
         std::all_of(segment.begin(), segment.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == '~';
         });
}

void validatePrefix(const std::string& prefix) {
  if (prefix.size() < 3 || prefix.front() != '/' || prefix.back() != '/') {
    throw std::invalid_argument("static folder prefix '" + prefix +
                                "': write it as /name/ (a leading and a trailing slash)");
  }
  auto segments = splitSegments(std::string_view(prefix).substr(1, prefix.size() - 2));
  for (auto segment : segments) {
    if (!prefixSegmentOk(segment)) {
      throw std::invalid_argument("static folder prefix '" + prefix +
                                  "': segments are letters, digits, '-', '_', '.' and '~', and "
                                  "do not start with '.'");
    }
  }
  if (std::find(kApiSegments.begin(), kApiSegments.end(), segments.front()) != kApiSegments.end()) {
    throw std::invalid_argument("static folder prefix '" + prefix + "' is the REST API's own path");
  }
}

/// True when every component of `root` starts `file`.
bool inside(const std::filesystem::path& root, const std::filesystem::path& file) {
  auto [rootEnd, fileAt] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  return rootEnd == root.end() && fileAt != file.end();
}

std::string_view strong(std::string_view tag) {
  return tag.starts_with("W/") ? tag.substr(2) : tag;
}

/// If-None-Match compares weakly (RFC 9110 13.1.2): "*" or any listed tag equal to ours.
bool notModified(const std::string& ifNoneMatch, const std::string& etag) {
  std::string_view rest = ifNoneMatch;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto tag = trimWhiteSpace(rest.substr(0, comma));
    if (tag == "*" || (!tag.empty() && strong(tag) == strong(etag))) {
      return true;
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

std::string hexOf(std::uint64_t value) {
  char buffer[17];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value, 16);
  (void)error;
  return std::string(buffer, end);
}

} // namespace

StaticFiles::StaticFiles(std::vector<StaticFolder> folders) : folders_(std::move(folders)) {
  std::set<std::string> seen;
  for (const auto& folder : folders_) {
    validatePrefix(folder.urlPrefix);
    if (!seen.insert(folder.urlPrefix).second) {
      throw std::invalid_argument("static folder prefix '" + folder.urlPrefix + "' given twice");
    }
  }
  std::stable_sort(folders_.begin(), folders_.end(), [](const auto& a, const auto& b) {
    return a.urlPrefix.size() > b.urlPrefix.size();
  });
}

const StaticFolder* StaticFiles::match(std::string_view path) const {
  for (const auto& folder : folders_) {
    std::string_view prefix = folder.urlPrefix;
    if (path.starts_with(prefix) || path == prefix.substr(0, prefix.size() - 1)) {
      return &folder;
    }
  }
  return nullptr;
}

int StaticFiles::serve(const StaticFolder& folder, Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) const {
  const auto& method = request.getMethod();
  if (method != "GET" && method != "HEAD") {
    throw ApiError(ApiErrorCode::MethodNotAllowed,
                   method + " is not allowed on the static files under " + folder.urlPrefix +
                       "; allowed: GET, HEAD")
        .withHeader("Allow", "GET, HEAD");
  }
  if (request.getChunkedTransferEncoding() ||
      (request.hasContentLength() && request.getContentLength64() > 0)) {
    response.setKeepAlive(false); // the body is not read, so the connection cannot be reused
  }
  const auto& target = request.getURI();
  auto queryStart = target.find('?');
  std::string_view path = std::string_view(target).substr(0, queryStart);

  if (path.size() < folder.urlPrefix.size()) {
    std::string location = folder.urlPrefix;
    if (queryStart != std::string::npos) {
      location += target.substr(queryStart);
    }
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_MOVED_PERMANENTLY);
    response.set("Location", location);
    response.setContentLength(0);
    response.send();
    return 301;
  }

  auto file = resolveStaticPath(folder.folder, path.substr(folder.urlPrefix.size()));
  std::error_code error;
  auto size = file ? std::filesystem::file_size(*file, error) : 0;
  auto modified = file && !error ? std::filesystem::last_write_time(*file, error)
                                 : std::filesystem::file_time_type{};
  if (!file || error) {
    throw ApiError(ApiErrorCode::NotFound, "no file at " + std::string(path));
  }

  auto etag = staticEtag(size, modified);
  response.set("ETag", etag);
  response.set("Cache-Control", folder.maxAge.count() > 0
                                    ? "public, max-age=" + std::to_string(folder.maxAge.count())
                                    : std::string("no-cache"));
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "SAMEORIGIN");
  if (notModified(request.get("If-None-Match", ""), etag)) {
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_MODIFIED);
    response.send();
    return 304;
  }
  try {
    response.sendFile(file->string(), std::string(staticContentType(*file)));
  } catch (const Poco::FileException&) {
    if (response.sent()) {
      throw;
    }
    throw ApiError(ApiErrorCode::NotFound, "no file at " + std::string(path));
  }
  return 200;
}

std::optional<std::filesystem::path> resolveStaticPath(const std::filesystem::path& root,
                                                       std::string_view relative) {
  std::string decoded;
  try {
    Poco::URI::decode(std::string(relative), decoded);
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
  if (decoded.find('\0') != std::string::npos || decoded.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  std::filesystem::path file = root;
  auto segments = splitSegments(decoded);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    auto segment = segments[i];
    bool last = i + 1 == segments.size();
    if (segment.empty() && last) {
      file /= "index.html";
      break;
    }
    if (segment.empty() || segment.front() == '.') {
      return std::nullopt; // covers "." and "..", and dot files such as .git or .htpasswd
    }
    file /= std::string(segment);
  }
  std::error_code error;
  auto realRoot = std::filesystem::canonical(root, error);
  if (error) {
    return std::nullopt;
  }
  auto realFile = std::filesystem::canonical(file, error);
  if (error || !inside(realRoot, realFile) || !std::filesystem::is_regular_file(realFile, error)) {
    return std::nullopt;
  }
  return realFile;
}

std::string_view staticContentType(const std::filesystem::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 19> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".wasm", "application/wasm"},
  }};
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [suffix, type] : kTypes) {
    if (extension == suffix) {
      return type;
    }
  }
  return "application/octet-stream";
}

std::string staticEtag(std::uintmax_t size, std::filesystem::file_time_type modified) {
  auto nanoseconds =
      std::chrono::duration_cast<std::chrono::nanoseconds>(modified.time_since_epoch()).count();
  return "W/\"" + hexOf(size) + "-" + hexOf(static_cast<std::uint64_t>(nanoseconds)) + "\"";
}

} // namespace switchboard::api
