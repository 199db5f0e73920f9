#pragma once

// Static folders served beside the REST API (StaticFolder in switchboard/http_api.h): the sample
// agent desktop, or an integrator's own page. Only GET and HEAD; a request path is resolved
// inside its folder or refused, never followed out of it (no "..", no dot files, no symbolic
// link that leads outside); every answer carries an ETag and the folder's Cache-Control.

#include "switchboard/http_api.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::api {

class StaticFiles {
 public:
  /// Throws std::invalid_argument for a prefix that is not "/name/.../" (see StaticFolder), that
  /// is one of the API's own paths, or that is given twice.
  explicit StaticFiles(std::vector<StaticFolder> folders);

  bool empty() const { return folders_.empty(); }

  /// The folder that serves `path` (without the query), or null. "/agent" matches the folder
  /// "/agent/" too, to be redirected.
  const StaticFolder* match(std::string_view path) const;

  /// Answers the request for a file of `folder` on `response` and returns the status sent.
  /// Throws ApiError (before sending anything) for a wrong method (405), a path that is not a
  /// readable file of the folder (404) or a malformed path (400).
  int serve(const StaticFolder& folder, Poco::Net::HTTPServerRequest& request,
            Poco::Net::HTTPServerResponse& response) const;

 private:
  std::vector<StaticFolder> folders_; ///< longest prefix first
};

/// The file that `relative` (the request path after the folder's prefix, still percent-encoded)
/// names inside `root`: "" and "x/" name index.html. Nothing when the path is malformed (a bad
/// escape, a NUL or backslash, an empty, "." or ".." segment, a segment starting with '.'), when
/// the file is not a regular file, or when its real path (symbolic links resolved) is not inside
/// the real `root`.
std::optional<std::filesystem::path> resolveStaticPath(const std::filesystem::path& root,
                                                       std::string_view relative);

/// The Content-Type for a file name by its extension (text types with charset=utf-8);
/// application/octet-stream for anything unknown.
std::string_view staticContentType(const std::filesystem::path& file);

/// A weak ETag from a file's size and modification time: W/"<size hex>-<mtime ns hex>".
std::string staticEtag(std::uintmax_t size, std::filesystem::file_time_type modified);

} // namespace switchboard::api
