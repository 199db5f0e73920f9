// The expression language: what parses, where errors point, and what expressions mean.

#include "compiled_expression.h"
#include "expression_ast.h"
#include "switchboard/routing/expression.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::routing {
namespace {

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    for (std::size_t i = 0; i < stateValues_.size(); ++i) {
      const Symbol s = symbols_.intern(EnumNames<AgentState>::kNames[i]);
      stateValues_[i] = Value::ofString(symbols_.text(s), s);
    }
    agent_.skills = {{symbols_.intern("billing"), 4}, {symbols_.intern("sales"), 7}};
    std::sort(agent_.skills.begin(), agent_.skills.end());
    agent_.seniority = 5;
    const Symbol site = symbols_.intern("paris");
    agent_.siteValue = Value::ofString(symbols_.text(site), site);
    agent_.listStore = {stringValue("en"), stringValue("fr")};
    agent_.attributes = {{symbols_.intern("languages"), Value::ofList(agent_.listStore.data(), 2)},
                         {symbols_.intern("team"), stringValue("blue")},
                         {symbols_.intern("level"), stringValue("3")}};
    item_.priority = 70;
    item_.attributes = {{symbols_.intern("language"), stringValue("fr")},
                        {symbols_.intern("topic"), stringValue("sales")},
                        {symbols_.intern("tier"), stringValue("gold")}};
  }

  Value stringValue(std::string_view text) {
    const Symbol s = symbols_.intern(text);
    return Value::ofString(symbols_.text(s), s);
  }

  bool eval(std::string_view text) {
    auto parsed = parseExpression(text, ExpressionScope::Target);
    EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed ? "" : parsed.error().format());
    if (!parsed) {
      return false;
    }
    auto compiled = CompiledExpression::compile(parsed.value(), symbols_, media_);
    EXPECT_TRUE(compiled.ok());
    return compiled.value().matches(EvalContext{&agent_, &item_, 0, &symbols_, &stateValues_});
  }

  ParseError error(std::string_view text, ExpressionScope scope = ExpressionScope::Target) {
    auto error = checkExpression(text, scope);
    EXPECT_TRUE(error.has_value()) << text << " should not compile";
    return error.value_or(ParseError{});
  }

  SymbolTable symbols_;
  MediaTable media_{kMaxMedia};
  std::array<Value, 6> stateValues_;
  AgentRecord agent_;
  ItemRecord item_;
};

TEST_F(ExpressionTest, ComparesSkillLevelsAndNumbers) {
  EXPECT_TRUE(eval("agent.skills.billing >= 3"));
  EXPECT_FALSE(eval("agent.skills.billing > 4"));
  EXPECT_TRUE(eval("agent.skills.billing == 4 and agent.seniority < 6"));
  EXPECT_TRUE(eval("agent.skills.sales != 3"));
  EXPECT_TRUE(eval("item.priority >= 70"));
}

TEST_F(ExpressionTest, MissingSkillOrAttributeNeverCompares) {
  EXPECT_FALSE(eval("agent.skills.french >= 0"));
  EXPECT_FALSE(eval("agent.skills.french < 5"));
  EXPECT_FALSE(eval("item.region == \"north\""));
  EXPECT_TRUE(eval("item.region != \"north\""));
  EXPECT_FALSE(eval("item.region"));
}

TEST_F(ExpressionTest, StringsFromAttributesCompareAsNumbersWhenTheyAreNumbers) {
  EXPECT_TRUE(eval("agent.level == 3"));
  EXPECT_TRUE(eval("agent.level > 2.5"));
  EXPECT_TRUE(eval("agent.team == 'blue'"));
  EXPECT_TRUE(eval("agent.team < \"green\""));
  EXPECT_FALSE(eval("agent.team > 3"));
}

TEST_F(ExpressionTest, InAndHasWorkOnListsFromBothSides) {
  EXPECT_TRUE(eval("item.language in agent.languages"));
  EXPECT_TRUE(eval("agent.languages has item.language"));
  EXPECT_TRUE(eval("item.tier in [\"gold\", \"platinum\"]"));
  EXPECT_FALSE(eval("item.tier in ['silver', 'bronze']"));
  EXPECT_TRUE(eval("item.tier not in ['silver', 'bronze']"));
  EXPECT_TRUE(eval("agent.seniority in [1, 5, 9]"));
  EXPECT_FALSE(eval("item.region in agent.languages"));
  EXPECT_TRUE(eval("agent.languages has 'en'"));
  EXPECT_FALSE(eval("agent.languages has 'de'"));
}

TEST_F(ExpressionTest, HasOnSkillsTestsPresenceByNameOrByItemAttribute) {
  EXPECT_TRUE(eval("agent.skills has 'billing'"));
  EXPECT_FALSE(eval("agent.skills has 'french'"));
  EXPECT_TRUE(eval("agent.skills has item.topic"));
  EXPECT_FALSE(eval("agent.skills has item.region"));
}

TEST_F(ExpressionTest, AndBindsTighterThanOrAndParenthesesOverride) {
  EXPECT_TRUE(eval("agent.seniority == 5 or agent.seniority == 1 and agent.seniority == 2"));
  EXPECT_FALSE(eval("(agent.seniority == 5 or agent.seniority == 1) and agent.seniority == 2"));
  EXPECT_TRUE(eval("not agent.seniority == 1"));
  EXPECT_FALSE(eval("not (agent.seniority == 5 or false)"));
  EXPECT_TRUE(eval("true and not false"));
  EXPECT_TRUE(eval(""));
}

TEST_F(ExpressionTest, ParseErrorsGiveTheColumnAndAReason) {
  auto e = error("agent.skills.billing >= ");
  EXPECT_EQ(e.column, 25u);
  EXPECT_EQ(e.reason, "expected a value after '>=', found the end of the expression");

  e = error("agent.skills.billing = 3");
  EXPECT_EQ(e.column, 22u);
  EXPECT_EQ(e.reason, "'=' is not an operator; compare with '=='");

  e = error("(item.tier == 'gold' or item.tier == 'silver'");
  EXPECT_EQ(e.column, 46u);
  EXPECT_EQ(e.reason, "expected ')' to close the '(' at column 1, found the end of the expression");

  e = error("customer.tier == 'gold'");
  EXPECT_EQ(e.column, 1u);
  EXPECT_EQ(e.reason,
            "unknown name 'customer': a path starts with 'agent.' or 'item.', a string is "
            "quoted");

  e = error("item.tier == 'gold");
  EXPECT_EQ(e.column, 14u);
  EXPECT_EQ(e.reason, "unterminated string");

  e = error("item.tier == 'gold' item.language == 'fr'");
  EXPECT_EQ(e.column, 21u);

  e = error("agent.skills >= 3");
  EXPECT_EQ(e.column, 1u);
  EXPECT_EQ(e.reason, "'agent.skills' needs a skill name (agent.skills.billing) or 'has'");

  e = error("1 < agent.seniority < 5");
  EXPECT_EQ(e.column, 21u);
  EXPECT_EQ(e.reason, "comparisons do not chain; join them with 'and'");

  e = error("item.tier in ['gold', item.x]");
  EXPECT_EQ(e.column, 23u);

  e = error("agent.skills.billing >= 3 && item.tier == 'gold'");
  EXPECT_EQ(e.column, 27u);
  EXPECT_EQ(e.reason, "write 'and' instead of '&'");

  e = error("agent.skills.billing.level > 1");
  EXPECT_EQ(e.column, 22u);
}

TEST_F(ExpressionTest, RulesMayNotReadTheAgent) {
  auto e = error("item.tier == 'gold' and agent.seniority > 2", ExpressionScope::Rule);
  EXPECT_EQ(e.column, 25u);
  EXPECT_EQ(e.reason, "rules see only the item: 'agent' is not available here");
  EXPECT_FALSE(checkExpression("item.tier == 'gold'", ExpressionScope::Rule).has_value());
}

TEST_F(ExpressionTest, DeepNestingIsRefusedNotACrash) {
  const std::string deep = std::string(500, '(') + "true" + std::string(500, ')');
  auto e = error(deep);
  EXPECT_EQ(e.reason, "expression nested too deeply");
}

TEST_F(ExpressionTest, LoweringSkillLevelsWidensTheTarget) {
  auto parsed = parseExpression("agent.skills.sales >= 9 and 9 <= agent.skills.sales",
                                ExpressionScope::Target);
  ASSERT_TRUE(parsed.ok());
  auto compile = [&](const Node& node) {
    return CompiledExpression::compile(node, symbols_, media_).value();
  };
  const EvalContext context{&agent_, &item_, 0, &symbols_, &stateValues_};
  EXPECT_FALSE(compile(parsed.value()).matches(context));
  EXPECT_TRUE(compile(lowerSkillLevels(parsed.value(), 2)).matches(context));
}

TEST_F(ExpressionTest, TargetsSplitByWhatTheirConjunctsRead) {
  auto parsed = parseExpression(
      "agent.skills.sales >= 3 and item.tier == 'gold' and item.language in agent.languages and "
      "agent.contactsToday < 50",
      ExpressionScope::Target);
  ASSERT_TRUE(parsed.ok());
  auto split = compileTarget(parsed.value(), symbols_, media_);
  ASSERT_TRUE(split.ok());
  // The agent part holds for this agent whatever the item, the item part for this item
  // whatever the agent.
  EXPECT_TRUE(
      split.value().agentPart.matches(EvalContext{&agent_, nullptr, 0, &symbols_, &stateValues_}));
  EXPECT_TRUE(
      split.value().itemPart.matches(EvalContext{nullptr, &item_, 0, &symbols_, &stateValues_}));
  item_.attributes[0].value = stringValue("de");
  EXPECT_FALSE(
      split.value().mixedPart.matches(EvalContext{&agent_, &item_, 0, &symbols_, &stateValues_}));
  EXPECT_TRUE(
      split.value().agentPart.matches(EvalContext{&agent_, nullptr, 0, &symbols_, &stateValues_}));
}

} // namespace
} // namespace switchboard::routing
