#include "expression_ast.h"
#include "value.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

namespace switchboard::routing {

namespace {

constexpr int kMaxDepth = 48;

enum class TokenKind {
  End,
  Ident,
  Number,
  String,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Dot,
  Compare,
  Bad
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string_view text; ///< as written
  std::string value;     ///< String: unescaped contents
  double number = 0.0;
  CompareOp op = CompareOp::Eq;
  std::size_t column = 0; ///< 1-based
  std::string error;      ///< Bad: why
};

bool isIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}
bool isDigit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
      ++pos_;
    }
    Token token;
    token.column = pos_ + 1;
    if (pos_ >= text_.size()) {
      return token;
    }
    const std::size_t start = pos_;
    const char c = text_[pos_];
    auto single = [&](TokenKind kind) {
      ++pos_;
      token.kind = kind;
      token.text = text_.substr(start, 1);
      return token;
    };
    switch (c) {
    case '(':
      return single(TokenKind::LParen);
    case ')':
      return single(TokenKind::RParen);
    case '[':
      return single(TokenKind::LBracket);
    case ']':
      return single(TokenKind::RBracket);
    case ',':
      return single(TokenKind::Comma);
    case '.':
      return single(TokenKind::Dot);
    default:
      break;
    }
    if (c == '"' || c == '\'') {
      return string(start, c);
    }
    if (isDigit(c) || (c == '-' && pos_ + 1 < text_.size() && isDigit(text_[pos_ + 1]))) {
      ++pos_;
      while (pos_ < text_.size() && (isDigit(text_[pos_]) || text_[pos_] == '.')) {
        ++pos_;
      }
      token.text = text_.substr(start, pos_ - start);
      auto number = parseNumber(token.text);
      if (!number) {
        token.kind = TokenKind::Bad;
        token.error = "'" + std::string(token.text) + "' is not a number";
        return token;
      }
      token.kind = TokenKind::Number;
      token.number = *number;
      return token;
    }
    if (isIdentStart(c)) {
      while (pos_ < text_.size() && isIdentChar(text_[pos_])) {
        ++pos_;
      }
      token.kind = TokenKind::Ident;
      token.text = text_.substr(start, pos_ - start);
      return token;
    }
    static constexpr std::pair<std::string_view, CompareOp> kOperators[] = {
        {"==", CompareOp::Eq}, {"!=", CompareOp::Ne}, {"<=", CompareOp::Le},
        {">=", CompareOp::Ge}, {"<", CompareOp::Lt},  {">", CompareOp::Gt}};
    for (const auto& [spelling, op] : kOperators) {
      if (text_.substr(pos_, spelling.size()) == spelling) {
        pos_ += spelling.size();
        token.kind = TokenKind::Compare;
        token.text = spelling;
        token.op = op;
        return token;
      }
    }
    token.kind = TokenKind::Bad;
    token.text = text_.substr(start, 1);
    token.error = c == '='   ? "'=' is not an operator; compare with '=='"
                  : c == '&' ? "write 'and' instead of '&'"
                  : c == '|' ? "write 'or' instead of '|'"
                  : c == '!' ? "write 'not' instead of '!'"
                             : "unexpected character '" + std::string(1, c) + "'";
    return token;
  }

 private:
  Token string(std::size_t start, char quote) {
    Token token;
    token.column = start + 1;
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        ++pos_;
      }
      token.value.push_back(text_[pos_]);
      ++pos_;
    }
    if (pos_ >= text_.size()) {
      token.kind = TokenKind::Bad;
      token.error = "unterminated string";
      return token;
    }
    ++pos_;
    token.kind = TokenKind::String;
    token.text = text_.substr(start, pos_ - start);
    return token;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

struct Failure {
  ParseError error;
};

class Parser {
 public:
  Parser(std::string_view text, ExpressionScope scope) : lexer_(text), scope_(scope) { advance(); }

  Node parse() {
    if (current_.kind == TokenKind::End) {
      Node node;
      node.kind = NodeKind::Bool;
      node.boolean = true;
      node.column = 1;
      return node;
    }
    Node node = orExpr(0);
    if (current_.kind != TokenKind::End) {
      fail(current_.column, "unexpected " + describe(current_) + " after a complete expression; " +
                                "join conditions with 'and' or 'or'");
    }
    return node;
  }

 private:
  [[noreturn]] void fail(std::size_t column, std::string reason) {
    throw Failure{ParseError{column, std::move(reason)}};
  }

  static std::string describe(const Token& token) {
    switch (token.kind) {
    case TokenKind::End:
      return "the end of the expression";
    case TokenKind::String:
      return "string " + std::string(token.text);
    default:
      return "'" + std::string(token.text) + "'";
    }
  }

  void advance() {
    previous_ = current_;
    current_ = lexer_.next();
    if (current_.kind == TokenKind::Bad) {
      fail(current_.column, current_.error);
    }
  }

  bool isKeyword(std::string_view word) const {
    return current_.kind == TokenKind::Ident && current_.text == word;
  }

  void checkDepth(int depth, std::size_t column) {
    if (depth > kMaxDepth) {
      fail(column, "expression nested too deeply");
    }
  }

  Node orExpr(int depth) {
    checkDepth(depth, current_.column);
    Node left = andExpr(depth + 1);
    if (!isKeyword("or")) {
      return left;
    }
    Node node;
    node.kind = NodeKind::Or;
    node.column = left.column;
    node.children.push_back(std::move(left));
    while (isKeyword("or")) {
      const Token op = current_;
      advance();
      node.children.push_back(andExpr(depth + 1, op));
    }
    return node;
  }

  Node andExpr(int depth, const std::optional<Token>& after = std::nullopt) {
    Node left = notExpr(depth + 1, after);
    if (!isKeyword("and")) {
      return left;
    }
    Node node;
    node.kind = NodeKind::And;
    node.column = left.column;
    node.children.push_back(std::move(left));
    while (isKeyword("and")) {
      const Token op = current_;
      advance();
      node.children.push_back(notExpr(depth + 1, op));
    }
    return node;
  }

  Node notExpr(int depth, const std::optional<Token>& after) {
    checkDepth(depth, current_.column);
    if (isKeyword("not")) {
      Node node;
      node.kind = NodeKind::Not;
      node.column = current_.column;
      const Token op = current_;
      advance();
      node.children.push_back(notExpr(depth + 1, op));
      return node;
    }
    return comparison(depth + 1, after);
  }

  std::optional<CompareOp> textOperator() const {
    if (isKeyword("contains")) {
      return CompareOp::Contains;
    }
    if (isKeyword("startsWith")) {
      return CompareOp::StartsWith;
    }
    if (isKeyword("endsWith")) {
      return CompareOp::EndsWith;
    }
    return std::nullopt;
  }

  bool atOperator() const {
    return current_.kind == TokenKind::Compare || isKeyword("in") || isKeyword("has") ||
           textOperator().has_value();
  }

  Node comparison(int depth, const std::optional<Token>& after) {
    Node left = operand(depth + 1, after);
    std::optional<CompareOp> op;
    bool negated = false;
    const Token opToken = current_;
    if (current_.kind == TokenKind::Compare) {
      op = current_.op;
      advance();
    } else if (isKeyword("in")) {
      op = CompareOp::In;
      advance();
    } else if (isKeyword("has")) {
      op = CompareOp::Has;
      advance();
    } else if (auto text = textOperator()) {
      op = text;
      advance();
    } else if (isKeyword("not")) {
      advance();
      if (isKeyword("in")) {
        op = CompareOp::NotIn;
      } else if (auto negatedOp = textOperator()) {
        op = negatedOp;
        negated = true;
      } else {
        fail(current_.column, "expected 'in', 'contains', 'startsWith' or 'endsWith' after 'not' "
                              "here ('x not in list')");
      }
      advance();
    }
    if (!op) {
      if (left.kind == NodeKind::Path && left.field == Field::AgentSkills) {
        fail(left.column, "'agent.skills' needs a skill name (agent.skills.billing) or 'has'");
      }
      return left;
    }
    const Token named = negated ? previous_ : opToken;
    Node right = operand(depth + 1, named);
    if (left.kind == NodeKind::Path && left.field == Field::AgentSkills && *op != CompareOp::Has) {
      fail(left.column, "'agent.skills' needs a skill name (agent.skills.billing) or 'has'");
    }
    if (right.kind == NodeKind::Path && right.field == Field::AgentSkills) {
      fail(right.column, "'agent.skills' can only stand left of 'has'");
    }
    if (isTextOp(*op)) {
      checkTextOperands(left, right, named.text);
    }
    if (atOperator()) {
      fail(current_.column, "comparisons do not chain; join them with 'and'");
    }
    Node node;
    node.kind = NodeKind::Compare;
    node.op = *op;
    node.column = opToken.column;
    node.children.push_back(std::move(left));
    node.children.push_back(std::move(right));
    if (!negated) {
      return node;
    }
    Node inverse;
    inverse.kind = NodeKind::Not;
    inverse.column = opToken.column;
    inverse.children.push_back(std::move(node));
    return inverse;
  }

  // Text operators read text: a path or a string on the left; a path, a string or a list of
  // strings on the right (literals are folded once, when the expression compiles).
  void checkTextOperands(const Node& left, const Node& right, std::string_view op) {
    const std::string name = "'" + std::string(op) + "'";
    if (left.kind != NodeKind::Path && left.kind != NodeKind::String) {
      fail(left.column, name + " needs text on its left: a path such as item.subject, or a string");
    }
    if (right.kind == NodeKind::List) {
      for (const auto& element : right.children) {
        if (element.kind != NodeKind::String) {
          fail(element.column, "the list after " + name + " holds strings only");
        }
      }
    } else if (right.kind != NodeKind::Path && right.kind != NodeKind::String) {
      fail(right.column, name + " needs a string, a list of strings or a path on its right");
    }
  }

  Node operand(int depth, const std::optional<Token>& after) {
    checkDepth(depth, current_.column);
    Node node;
    node.column = current_.column;
    switch (current_.kind) {
    case TokenKind::Number:
      node.kind = NodeKind::Number;
      node.number = current_.number;
      advance();
      return node;
    case TokenKind::String:
      node.kind = NodeKind::String;
      node.text = current_.value;
      advance();
      return node;
    case TokenKind::LParen: {
      const std::size_t open = current_.column;
      advance();
      node = orExpr(depth + 1);
      if (current_.kind != TokenKind::RParen) {
        fail(current_.column, "expected ')' to close the '(' at column " + std::to_string(open) +
                                  ", found " + describe(current_));
      }
      advance();
      return node;
    }
    case TokenKind::LBracket:
      return list();
    case TokenKind::Ident:
      if (isKeyword("true") || isKeyword("false")) {
        node.kind = NodeKind::Bool;
        node.boolean = current_.text == "true";
        advance();
        return node;
      }
      if (isKeyword("and") || isKeyword("or") || isKeyword("in") || isKeyword("has") ||
          textOperator()) {
        break;
      }
      return path();
    default:
      break;
    }
    std::string reason = "expected a value";
    if (after) {
      reason += " after '" + std::string(after->text) + "'";
    }
    reason += ", found " + describe(current_);
    fail(current_.column, std::move(reason));
  }

  Node list() {
    Node node;
    node.kind = NodeKind::List;
    node.column = current_.column;
    advance();
    if (current_.kind == TokenKind::RBracket) {
      advance();
      return node;
    }
    while (true) {
      Node element;
      element.column = current_.column;
      if (current_.kind == TokenKind::Number) {
        element.kind = NodeKind::Number;
        element.number = current_.number;
      } else if (current_.kind == TokenKind::String) {
        element.kind = NodeKind::String;
        element.text = current_.value;
      } else {
        fail(current_.column, "a list holds numbers and strings only, found " + describe(current_));
      }
      node.children.push_back(std::move(element));
      advance();
      if (current_.kind == TokenKind::Comma) {
        advance();
        continue;
      }
      if (current_.kind == TokenKind::RBracket) {
        advance();
        return node;
      }
      fail(current_.column, "expected ',' or ']' in the list that starts at column " +
                                std::to_string(node.column) + ", found " + describe(current_));
    }
  }

  Node path() {
    Node node;
    node.kind = NodeKind::Path;
    node.column = current_.column;
    std::vector<std::pair<std::string_view, std::size_t>> segments;
    segments.emplace_back(current_.text, current_.column);
    advance();
    while (current_.kind == TokenKind::Dot) {
      advance();
      if (current_.kind != TokenKind::Ident) {
        fail(current_.column, "expected a name after '.', found " + describe(current_));
      }
      segments.emplace_back(current_.text, current_.column);
      advance();
    }
    resolve(node, segments);
    return node;
  }

  void resolve(Node& node, const std::vector<std::pair<std::string_view, std::size_t>>& segments) {
    const auto root = segments[0].first;
    if (root != "agent" && root != "item") {
      fail(segments[0].second, "unknown name '" + std::string(root) +
                                   "': a path starts with 'agent.' or 'item.', a string is quoted");
    }
    if (segments.size() < 2) {
      fail(segments[0].second + root.size(),
           "expected '.' and a field after '" + std::string(root) + "'");
    }
    const auto name = segments[1].first;
    const auto nameColumn = segments[1].second;
    auto noMore = [&](std::size_t allowed) {
      if (segments.size() > allowed) {
        fail(segments[allowed].second, "'" + std::string(segments[allowed - 1].first) +
                                           "' has no field '" +
                                           std::string(segments[allowed].first) + "'");
      }
    };
    if (root == "agent") {
      if (scope_ == ExpressionScope::Rule) {
        fail(segments[0].second, "rules see only the item: 'agent' is not available here");
      }
      static constexpr std::pair<std::string_view, Field> kFields[] = {
          {"id", Field::AgentId},
          {"name", Field::AgentName},
          {"site", Field::AgentSite},
          {"seniority", Field::AgentSeniority},
          {"state", Field::AgentState},
          {"contactsToday", Field::AgentContactsToday},
          {"idleSeconds", Field::AgentIdleSeconds}};
      for (const auto& [spelling, field] : kFields) {
        if (name == spelling) {
          noMore(2);
          node.field = field;
          return;
        }
      }
      if (name == "skills" || name == "capacity") {
        if (segments.size() == 2) {
          if (name == "capacity") {
            fail(nameColumn + name.size(), "'agent.capacity' needs a medium (agent.capacity.chat)");
          }
          node.field = Field::AgentSkills;
          return;
        }
        noMore(3);
        node.field = name == "skills" ? Field::AgentSkill : Field::AgentCapacity;
        node.text = std::string(segments[2].first);
        return;
      }
      noMore(2);
      node.field = Field::AgentAttribute;
      node.text = std::string(name);
      return;
    }
    if (name == "customer" && segments.size() > 2) {
      if (segments[2].first != "name") {
        fail(segments[2].second, "'item.customer' has no field '" + std::string(segments[2].first) +
                                     "': item.customer is the customer's id, item.customer.name "
                                     "the name");
      }
      noMore(3);
      node.field = Field::ItemCustomerName;
      return;
    }
    static constexpr std::pair<std::string_view, Field> kFields[] = {
        {"id", Field::ItemId},
        {"medium", Field::ItemMedium},
        {"priority", Field::ItemPriority},
        {"customer", Field::ItemCustomer},
        {"waitSeconds", Field::ItemWaitSeconds},
        {"subject", Field::ItemSubject},
        {"body", Field::ItemBody},
        {"from", Field::ItemFrom},
        {"contactPoint", Field::ItemContactPoint}};
    noMore(2);
    for (const auto& [spelling, field] : kFields) {
      if (name == spelling) {
        if (field == Field::ItemBody && scope_ != ExpressionScope::Rule) {
          fail(nameColumn, "'item.body' is for classification rules only: the engine does not "
                           "keep the body once the item is classified");
        }
        node.field = field;
        return;
      }
    }
    node.field = Field::ItemAttribute;
    node.text = std::string(name);
  }

  Lexer lexer_;
  ExpressionScope scope_;
  Token current_;
  Token previous_;
};

bool isSkillPath(const Node& node) {
  return node.kind == NodeKind::Path && node.field == Field::AgentSkill;
}

} // namespace

bool isAgentField(Field field) {
  return field <= Field::AgentAttribute;
}

bool isDynamicAgentField(Field field) {
  return field == Field::AgentState || field == Field::AgentContactsToday ||
         field == Field::AgentIdleSeconds || field == Field::AgentCapacity;
}

Result<Node, ParseError> parseExpression(std::string_view text, ExpressionScope scope) {
  try {
    Parser parser(text, scope);
    return parser.parse();
  } catch (Failure& failure) {
    return std::move(failure.error);
  }
}

std::vector<Node> conjuncts(const Node& node) {
  if (node.kind != NodeKind::And) {
    return {node};
  }
  std::vector<Node> result;
  for (const auto& child : node.children) {
    auto inner = conjuncts(child);
    std::move(inner.begin(), inner.end(), std::back_inserter(result));
  }
  return result;
}

Node lowerSkillLevels(Node node, int levels) {
  if (node.kind == NodeKind::Compare && node.children[1].kind == NodeKind::Number &&
      isSkillPath(node.children[0]) && (node.op == CompareOp::Ge || node.op == CompareOp::Gt)) {
    node.children[1].number = std::max(0.0, node.children[1].number - levels);
    return node;
  }
  if (node.kind == NodeKind::Compare && node.children[0].kind == NodeKind::Number &&
      isSkillPath(node.children[1]) && (node.op == CompareOp::Le || node.op == CompareOp::Lt)) {
    node.children[0].number = std::max(0.0, node.children[0].number - levels);
    return node;
  }
  for (auto& child : node.children) {
    child = lowerSkillLevels(std::move(child), levels);
  }
  return node;
}

} // namespace switchboard::routing
