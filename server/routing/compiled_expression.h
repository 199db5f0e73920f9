#pragma once

// An expression compiled for evaluation: a flat tree whose paths point straight at record
// fields, skill symbols and attribute symbols, with constants built once. Evaluation allocates
// nothing. A queue target is also split by what its top-level conjuncts read (SplitTarget), so
// that agent-only conditions are evaluated when an agent or queue changes, not per decision.

#include "agent_record.h"
#include "expression_ast.h"
#include "item_record.h"
#include "symbol_table.h"
#include "value.h"

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace switchboard::routing {

struct EvalContext {
  const AgentRecord* agent = nullptr; ///< null in rules
  const ItemRecord* item = nullptr;
  std::int64_t now = 0; ///< ms since the epoch
  const SymbolTable* symbols = nullptr;
  const std::array<Value, 6>* stateValues = nullptr; ///< "loggedOut" ... "wrapUp"
  std::string_view body = {}; ///< item.body: the submitted spec's, while rules run; empty otherwise
};

class CompiledExpression {
 public:
  /// Always true.
  CompiledExpression() = default;

  /// Compiles a parsed expression. Fails only when it names more media than the engine holds.
  static Result<CompiledExpression, ParseError> compile(const Node& root, SymbolTable& symbols,
                                                        MediaTable& media);

  bool matches(const EvalContext& context) const { return nodes_.empty() || test(0, context); }
  bool alwaysTrue() const { return nodes_.empty(); }

 private:
  struct CNode {
    NodeKind kind = NodeKind::Bool;
    CompareOp op = CompareOp::Eq;
    Field field = Field::ItemId;
    bool skillTest = false;   ///< Compare Has with agent.skills on the left
    std::uint32_t first = 0;  ///< children: children_[first, first + count)
    std::uint32_t count = 0;  ///< List: constants_[first, first + count)
    Symbol name = kNoSymbol;  ///< Path: skill, attribute or medium symbol
    std::uint32_t slot = 0;   ///< Path AgentCapacity: medium slot
    bool foldedRight = false; ///< text operator whose right side is a literal, folded already
    Value constant;           ///< Number, String, Bool
  };

  std::uint32_t add(const Node& node, SymbolTable& symbols, MediaTable& media, bool& mediaFull);
  bool test(std::uint32_t index, const EvalContext& context) const;
  Value value(std::uint32_t index, const EvalContext& context) const;
  Value field(const CNode& node, const EvalContext& context) const;
  /// value(), but a reference to the stored value where there is one (constants, ids,
  /// attributes); otherwise the value is computed into `scratch`, which must be a default Value.
  const Value& valueRef(std::uint32_t index, const EvalContext& context, Value& scratch) const;

  std::vector<CNode> nodes_;
  std::vector<std::uint32_t> children_;
  std::vector<Value> constants_;
};

/// A target expression split by what each top-level conjunct reads.
struct SplitTarget {
  CompiledExpression whole;
  CompiledExpression agentPart; ///< only static agent fields and constants
  CompiledExpression itemPart;  ///< only item fields
  CompiledExpression mixedPart; ///< the rest: item and agent, or agent state and counters
  /// When the mixed part is one test `item.X in agent.Y` (or `agent.Y has item.X`): the
  /// attributes X and Y, so that the engine can decide it from bit sets of the agents' values
  /// of Y without reading the agents' records. kNoSymbol otherwise.
  Symbol setItemAttribute = kNoSymbol;
  Symbol setAgentAttribute = kNoSymbol;
};

Result<SplitTarget, ParseError> compileTarget(const Node& root, SymbolTable& symbols,
                                              MediaTable& media);

} // namespace switchboard::routing
