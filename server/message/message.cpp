#include "switchboard/message.h"

namespace switchboard {
namespace {

constexpr std::array<std::string_view, 4> kCategories{"command", "request", "response",
                                                      "notification"};

struct KindName {
  std::string_view operator()(const Response& response) const { return response.kind; }
  template <class... Kinds>
  std::string_view operator()(const std::variant<Kinds...>& kinds) const {
    return std::visit([](const auto& kind) { return kind.kKind; }, kinds);
  }
};

} // namespace

std::string_view categoryOf(const Message& message) {
  return kCategories[message.payload.index()];
}

std::string_view kindOf(const Message& message) {
  return std::visit(KindName{}, message.payload);
}

} // namespace switchboard
