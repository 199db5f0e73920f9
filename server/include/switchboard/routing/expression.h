#pragma once

// The target and rule expression language, e.g.
//   agent.skills.billing >= 3 and item.language in agent.languages and not item.tier == "basic"
// (grammar and semantics: docs/routing.md). The engine compiles expressions when queues and
// rules are configured; integrators can check one here before they save a configuration.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::routing {

/// Where an expression stops making sense, and why.
struct ParseError {
  std::size_t column = 0; ///< 1-based position of the offending character in the text
  std::string reason;     ///< e.g. "expected a value after '>='"

  /// "column 12: expected a value after '>='"
  std::string format() const;
};

/// Which roots an expression may use: targets see agent and item, rules only the item.
enum class ExpressionScope { Target, Rule };

/// Checks `text` for syntax and for names the engine knows. Returns the first error, or nothing
/// when the text compiles.
std::optional<ParseError> checkExpression(std::string_view text,
                                          ExpressionScope scope = ExpressionScope::Target);

} // namespace switchboard::routing
