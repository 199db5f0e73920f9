#include "compiled_expression.h"
#include "text_match.h"

#include <string>

namespace switchboard::routing {

namespace {

struct Reads {
  bool staticAgent = false;
  bool dynamicAgent = false;
  bool item = false;
};

void collectReads(const Node& node, Reads& reads) {
  if (node.kind == NodeKind::Path) {
    if (!isAgentField(node.field)) {
      reads.item = true;
    } else if (isDynamicAgentField(node.field)) {
      reads.dynamicAgent = true;
    } else {
      reads.staticAgent = true;
    }
  }
  for (const auto& child : node.children) {
    collectReads(child, reads);
  }
}

Node conjunction(std::vector<Node> parts) {
  if (parts.size() == 1) {
    return std::move(parts.front());
  }
  Node node;
  node.kind = NodeKind::And;
  node.column = parts.empty() ? 1 : parts.front().column;
  node.children = std::move(parts);
  return node;
}

bool isTrueLiteral(const Node& node) {
  return node.kind == NodeKind::Bool && node.boolean;
}

// The right side of a text operator with its literals folded, so evaluation folds only the text.
Node foldLiterals(Node node) {
  if (node.kind == NodeKind::String) {
    node.text = foldText(node.text);
  }
  for (auto& child : node.children) {
    child = foldLiterals(std::move(child));
  }
  return node;
}

TextOp textOp(CompareOp op) {
  return op == CompareOp::StartsWith ? TextOp::StartsWith
         : op == CompareOp::EndsWith ? TextOp::EndsWith
                                     : TextOp::Contains;
}

Value itemText(const ItemRecord& item, Field field) {
  const ItemText which = field == Field::ItemSubject        ? kSubject
                         : field == Field::ItemFrom         ? kFrom
                         : field == Field::ItemContactPoint ? kContactPoint
                                                            : kCustomerName;
  const std::string_view text = item.text(which);
  return text.empty() ? Value{} : Value::ofString(text, kNoSymbol);
}

// Any text of `left` (a string or list elements) against any of `right`; other values never
// match.
bool textTest(TextOp op, const Value& left, const Value& right, bool rightFolded) {
  if (left.kind == ValueKind::List) {
    for (std::uint32_t i = 0; i < left.size; ++i) {
      if (textTest(op, left.items[i], right, rightFolded)) {
        return true;
      }
    }
    return false;
  }
  if (right.kind == ValueKind::List) {
    for (std::uint32_t i = 0; i < right.size; ++i) {
      if (textTest(op, left, right.items[i], rightFolded)) {
        return true;
      }
    }
    return false;
  }
  return left.kind == ValueKind::String && right.kind == ValueKind::String &&
         matchText(op, left.text, right.text, rightFolded);
}

} // namespace

Result<CompiledExpression, ParseError>
CompiledExpression::compile(const Node& root, SymbolTable& symbols, MediaTable& media) {
  CompiledExpression compiled;
  if (isTrueLiteral(root)) {
    return compiled;
  }
  bool mediaFull = false;
  compiled.add(root, symbols, media, mediaFull);
  if (mediaFull) {
    return ParseError{root.column, "more than " + std::to_string(kMaxMedia) + " media"};
  }
  return compiled;
}

std::uint32_t CompiledExpression::add(const Node& node, SymbolTable& symbols, MediaTable& media,
                                      bool& mediaFull) {
  const auto index = static_cast<std::uint32_t>(nodes_.size());
  nodes_.emplace_back();
  CNode compiled;
  compiled.kind = node.kind;
  compiled.op = node.op;
  compiled.field = node.field;
  switch (node.kind) {
  case NodeKind::Number:
    compiled.constant = Value::ofNumber(node.number);
    break;
  case NodeKind::String: {
    const Symbol symbol = symbols.intern(node.text);
    compiled.constant = Value::ofString(symbols.text(symbol), symbol);
    break;
  }
  case NodeKind::Bool:
    compiled.constant = Value::ofBool(node.boolean);
    break;
  case NodeKind::List:
    compiled.first = static_cast<std::uint32_t>(constants_.size());
    compiled.count = static_cast<std::uint32_t>(node.children.size());
    for (const auto& element : node.children) {
      if (element.kind == NodeKind::Number) {
        constants_.push_back(Value::ofNumber(element.number));
      } else {
        const Symbol symbol = symbols.intern(element.text);
        constants_.push_back(Value::ofString(symbols.text(symbol), symbol));
      }
    }
    break;
  case NodeKind::Path:
    if (!node.text.empty()) {
      compiled.name = symbols.intern(node.text);
    }
    if (node.field == Field::AgentCapacity) {
      compiled.slot = media.slotOf(compiled.name);
      mediaFull = mediaFull || compiled.slot == kNoSymbol;
    }
    break;
  case NodeKind::Compare:
    compiled.skillTest = node.op == CompareOp::Has && node.children[0].kind == NodeKind::Path &&
                         node.children[0].field == Field::AgentSkills;
    if (isTextOp(node.op) && node.children[1].kind != NodeKind::Path) {
      compiled.foldedRight = true;
      const std::uint32_t left = add(node.children[0], symbols, media, mediaFull);
      const std::uint32_t right = add(foldLiterals(node.children[1]), symbols, media, mediaFull);
      compiled.first = static_cast<std::uint32_t>(children_.size());
      compiled.count = 2;
      children_.push_back(left);
      children_.push_back(right);
      break;
    }
    [[fallthrough]];
  case NodeKind::Or:
  case NodeKind::And:
  case NodeKind::Not: {
    std::vector<std::uint32_t> kids;
    for (const auto& child : node.children) {
      kids.push_back(add(child, symbols, media, mediaFull));
    }
    compiled.first = static_cast<std::uint32_t>(children_.size());
    compiled.count = static_cast<std::uint32_t>(kids.size());
    children_.insert(children_.end(), kids.begin(), kids.end());
    break;
  }
  }
  nodes_[index] = compiled;
  return index;
}

bool CompiledExpression::test(std::uint32_t index, const EvalContext& context) const {
  const CNode& node = nodes_[index];
  switch (node.kind) {
  case NodeKind::Or:
    for (std::uint32_t i = 0; i < node.count; ++i) {
      if (test(children_[node.first + i], context)) {
        return true;
      }
    }
    return false;
  case NodeKind::And:
    for (std::uint32_t i = 0; i < node.count; ++i) {
      if (!test(children_[node.first + i], context)) {
        return false;
      }
    }
    return true;
  case NodeKind::Not:
    return !test(children_[node.first], context);
  case NodeKind::Compare: {
    // Operands by reference where they are stored (constants, attributes, ids): a Value is 48
    // bytes, and copying both sides was much of a candidate check's cost.
    Value rightScratch;
    const Value& right = valueRef(children_[node.first + 1], context, rightScratch);
    if (node.skillTest) {
      if (context.agent == nullptr || right.kind != ValueKind::String) {
        return false;
      }
      Symbol skill = right.symbol;
      if (skill == kNoSymbol) {
        skill = context.symbols->find(right.text);
      }
      return skill != kNoSymbol && skillLevel(*context.agent, skill) >= 0;
    }
    Value leftScratch;
    const Value& left = valueRef(children_[node.first], context, leftScratch);
    switch (node.op) {
    case CompareOp::Eq:
      return equalValues(left, right);
    case CompareOp::Ne:
      return !equalValues(left, right);
    case CompareOp::Lt: {
      auto c = compareValues(left, right);
      return c && *c < 0;
    }
    case CompareOp::Le: {
      auto c = compareValues(left, right);
      return c && *c <= 0;
    }
    case CompareOp::Gt: {
      auto c = compareValues(left, right);
      return c && *c > 0;
    }
    case CompareOp::Ge: {
      auto c = compareValues(left, right);
      return c && *c >= 0;
    }
    case CompareOp::In:
      return left.kind != ValueKind::None && containsValue(right, left);
    case CompareOp::NotIn:
      return !(left.kind != ValueKind::None && containsValue(right, left));
    case CompareOp::Has:
      return right.kind != ValueKind::None && containsValue(left, right);
    case CompareOp::Contains:
    case CompareOp::StartsWith:
    case CompareOp::EndsWith:
      return textTest(textOp(node.op), left, right, node.foldedRight);
    }
    return false;
  }
  default:
    return truthy(value(index, context));
  }
}

Value CompiledExpression::value(std::uint32_t index, const EvalContext& context) const {
  const CNode& node = nodes_[index];
  switch (node.kind) {
  case NodeKind::Number:
  case NodeKind::String:
  case NodeKind::Bool:
    return node.constant;
  case NodeKind::List:
    return Value::ofList(constants_.data() + node.first, node.count);
  case NodeKind::Path:
    return field(node, context);
  default:
    return Value::ofBool(test(index, context));
  }
}

const Value& CompiledExpression::valueRef(std::uint32_t index, const EvalContext& context,
                                          Value& scratch) const {
  const CNode& node = nodes_[index];
  switch (node.kind) {
  case NodeKind::Number:
  case NodeKind::String:
  case NodeKind::Bool:
    return node.constant;
  case NodeKind::Path: {
    const AgentRecord* agent = context.agent;
    const ItemRecord* item = context.item;
    const Value* stored = nullptr;
    switch (node.field) {
    case Field::AgentId:
      stored = agent != nullptr ? &agent->idValue : nullptr;
      break;
    case Field::AgentName:
      stored = agent != nullptr ? &agent->nameValue : nullptr;
      break;
    case Field::AgentSite:
      stored = agent != nullptr ? &agent->siteValue : nullptr;
      break;
    case Field::AgentAttribute:
      stored = agent != nullptr ? findAttribute(agent->attributes, node.name) : nullptr;
      break;
    case Field::ItemAttribute:
      stored = item != nullptr ? findAttribute(item->attributes, node.name) : nullptr;
      break;
    default:
      scratch = field(node, context);
      return scratch;
    }
    if (stored == nullptr) {
      return scratch; // missing: the default Value
    }
    return *stored;
  }
  default:
    scratch = value(index, context);
    return scratch;
  }
}

Value CompiledExpression::field(const CNode& node, const EvalContext& context) const {
  const AgentRecord* agent = context.agent;
  const ItemRecord* item = context.item;
  if (isAgentField(node.field) ? agent == nullptr : item == nullptr) {
    return {};
  }
  switch (node.field) {
  case Field::AgentId:
    return agent->idValue;
  case Field::AgentName:
    return agent->nameValue;
  case Field::AgentSite:
    return agent->siteValue;
  case Field::AgentSeniority:
    return Value::ofNumber(agent->seniority);
  case Field::AgentState:
    return (*context.stateValues)[static_cast<std::size_t>(agent->reported)];
  case Field::AgentContactsToday:
    return Value::ofNumber(agent->contactsToday);
  case Field::AgentIdleSeconds:
    return Value::ofNumber(agent->idleKnown ? (context.now - agent->idleSince) / 1000.0 : 0.0);
  case Field::AgentCapacity:
    return Value::ofNumber(node.slot < kMaxMedia ? freePlaces(*agent, node.slot) : 0);
  case Field::AgentSkill: {
    const int level = skillLevel(*agent, node.name);
    return level < 0 ? Value{} : Value::ofNumber(level);
  }
  case Field::AgentSkills:
    return {};
  case Field::AgentAttribute: {
    const Value* found = findAttribute(agent->attributes, node.name);
    return found != nullptr ? *found : Value{};
  }
  // Made when read: targets and rules seldom read them, and three stored values were 144 bytes
  // of every item to write.
  case Field::ItemId:
    return Value::ofString(item->id, kNoSymbol);
  case Field::ItemMedium:
    return Value::ofString(context.symbols->text(item->mediumSymbol), item->mediumSymbol);
  case Field::ItemPriority:
    return Value::ofNumber(item->priority);
  case Field::ItemCustomer:
    return item->customer.empty() ? Value{} : Value::ofString(item->customer, kNoSymbol);
  case Field::ItemWaitSeconds:
    return Value::ofNumber((context.now - item->arrival) / 1000.0);
  case Field::ItemSubject:
  case Field::ItemFrom:
  case Field::ItemContactPoint:
  case Field::ItemCustomerName:
    return itemText(*item, node.field);
  case Field::ItemBody:
    return context.body.empty() ? Value{} : Value::ofString(context.body, kNoSymbol);
  case Field::ItemAttribute: {
    const Value* found = findAttribute(item->attributes, node.name);
    return found != nullptr ? *found : Value{};
  }
  }
  return {};
}

Result<SplitTarget, ParseError> compileTarget(const Node& root, SymbolTable& symbols,
                                              MediaTable& media) {
  std::vector<Node> agentOnly;
  std::vector<Node> itemOnly;
  std::vector<Node> mixed;
  for (auto& part : conjuncts(root)) {
    Reads reads;
    collectReads(part, reads);
    if (!reads.item && !reads.dynamicAgent) {
      agentOnly.push_back(std::move(part));
    } else if (!reads.staticAgent && !reads.dynamicAgent) {
      itemOnly.push_back(std::move(part));
    } else {
      mixed.push_back(std::move(part));
    }
  }
  SplitTarget target;
  if (mixed.size() == 1) {
    const Node& test = mixed.front();
    auto isPath = [](const Node& node, Field field) {
      return node.kind == NodeKind::Path && node.field == field;
    };
    if (test.kind == NodeKind::Compare && test.children.size() == 2) {
      const Node* item = nullptr;
      const Node* agent = nullptr;
      if (test.op == CompareOp::In && isPath(test.children[0], Field::ItemAttribute) &&
          isPath(test.children[1], Field::AgentAttribute)) {
        item = &test.children[0];
        agent = &test.children[1];
      } else if (test.op == CompareOp::Has && isPath(test.children[0], Field::AgentAttribute) &&
                 isPath(test.children[1], Field::ItemAttribute)) {
        item = &test.children[1];
        agent = &test.children[0];
      }
      if (item != nullptr) {
        target.setItemAttribute = symbols.intern(item->text);
        target.setAgentAttribute = symbols.intern(agent->text);
      }
    }
  }
  auto compileGroup = [&](std::vector<Node> group, CompiledExpression& out) -> bool {
    if (group.empty()) {
      return true;
    }
    auto compiled = CompiledExpression::compile(conjunction(std::move(group)), symbols, media);
    if (!compiled) {
      return false;
    }
    out = std::move(compiled.value());
    return true;
  };
  auto whole = CompiledExpression::compile(root, symbols, media);
  if (!whole) {
    return whole.error();
  }
  target.whole = std::move(whole.value());
  if (!compileGroup(std::move(agentOnly), target.agentPart) ||
      !compileGroup(std::move(itemOnly), target.itemPart) ||
      !compileGroup(std::move(mixed), target.mixedPart)) {
    return ParseError{root.column, "more than " + std::to_string(kMaxMedia) + " media"};
  }
  return target;
}

} // namespace switchboard::routing
