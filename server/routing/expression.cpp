#include "switchboard/routing/expression.h"

#include "compiled_expression.h"
#include "expression_ast.h"

namespace switchboard::routing {

std::string ParseError::format() const {
  return "column " + std::to_string(column) + ": " + reason;
}

std::optional<ParseError> checkExpression(std::string_view text, ExpressionScope scope) {
  auto parsed = parseExpression(text, scope);
  if (!parsed) {
    return parsed.error();
  }
  SymbolTable symbols;
  MediaTable media(kMaxMedia);
  auto compiled = CompiledExpression::compile(parsed.value(), symbols, media);
  if (!compiled) {
    return compiled.error();
  }
  return std::nullopt;
}

} // namespace switchboard::routing
