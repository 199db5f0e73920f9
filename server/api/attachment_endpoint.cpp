#include "api_endpoints.h"

#include <algorithm>
#include <cctype>

namespace switchboard::api {

namespace {

bool tokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$&^_.+-").find(c) != std::string_view::npos;
}

/// The attachment's own type when it reads as type/subtype; anything else is sent as bytes.
std::string contentTypeOf(const std::string& type) {
  auto slash = type.find('/');
  bool sane = slash != std::string::npos && slash > 0 && slash + 1 < type.size() &&
              type.size() <= 127 && std::all_of(type.begin(), type.begin() + slash, tokenChar) &&
              std::all_of(type.begin() + slash + 1, type.end(), tokenChar);
  return sane ? type : "application/octet-stream";
}

/// Content-Disposition for a download: a plain ASCII filename for old clients, and the real
/// name as filename* (RFC 6266, RFC 8187). Nothing of the name can end the header or add one.
std::string disposition(const std::optional<std::string>& name) {
  std::string given = name.value_or("");
  std::string plain;
  std::string encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : given) {
    bool printable = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != ';' && c != '/';
    plain += printable ? static_cast<char>(c) : '_';
    if (std::isalnum(c) != 0 ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 0x0F];
    }
  }
  if (plain.empty() || plain.find_first_not_of("._ ") == std::string::npos) {
    return "attachment; filename=\"attachment\"";
  }
  return "attachment; filename=\"" + plain + "\"; filename*=UTF-8''" + encoded;
}

} // namespace

ApiResponse getAttachment(EndpointContext& context, const ApiRequest& request) {
  const auto& id = request.param("id");
  const auto& indexText = request.param("index");
  auto details = unwrap(context.service.workItem(id));
  if (!visibleTo(request.principal, details.stored.item)) {
    throw ApiError(ApiErrorCode::Forbidden, "work item '" + id +
                                                "' is not offered to or held by agent '" +
                                                request.principal.id + "'");
  }
  const auto& attachments = details.stored.item.attachments;
  bool digits = !indexText.empty() && indexText.size() <= 6 &&
                indexText.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) {
    throw ApiError(ApiErrorCode::BadRequest,
                   "path parameter 'index': expected the attachment's number, from 0");
  }
  auto index = std::stoul(indexText);
  if (index >= attachments.size()) {
    throw ApiError(ApiErrorCode::NotFound, "work item '" + id + "' has " +
                                               std::to_string(attachments.size()) +
                                               " attachments; there is no number " + indexText);
  }
  if (!context.attachmentBytes) {
    throw ApiError(ApiErrorCode::Unavailable, "this server does not serve attachments");
  }
  const Attachment& attachment = attachments[index];
  auto bytes = context.attachmentBytes(attachment.digest);
  if (!bytes) {
    throw ApiError(ApiErrorCode::NotFound, "the bytes of attachment " + indexText +
                                               " of work item '" + id +
                                               "' are not in the attachment store");
  }
  ApiResponse response;
  response.contentType = contentTypeOf(attachment.type);
  response.body = std::move(*bytes);
  response.headers.emplace_back("Content-Disposition", disposition(attachment.name));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Opened directly, a document from a customer must not run as this origin.
  response.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
  return response;
}

} // namespace switchboard::api
