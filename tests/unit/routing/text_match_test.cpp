// The text operators (contains, startsWith, endsWith): folding of case and accents, lists,
// missing values, negation, and where their parse errors point.

#include "compiled_expression.h"
#include "expression_ast.h"
#include "switchboard/routing/expression.h"
#include "text_match.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace switchboard::routing {
namespace {

TEST(TextMatch, FoldsAsciiCaseAndLatinAccents) {
  EXPECT_EQ(foldText("FATURA de Novembro"), "fatura de novembro");
  EXPECT_EQ(foldText("Cobrança DUPLICADA, não paga"), "cobranca duplicada, nao paga");
  EXPECT_EQ(foldText("ÁÉÍÓÚ àèìòù ÂÊÔ ÃÕ Ñ Ü Ç"), "aeiou aeiou aeo ao n u c");
  EXPECT_EQ(foldText("Łódź Žluťoučký Ærø Straße"), "łodz zlutoucky ærø straße");
  // Outside Latin: exact, and invalid bytes stay as they are.
  EXPECT_EQ(foldText("ΣΟΦΙΑ"), "ΣΟΦΙΑ");
  EXPECT_EQ(foldText("A\xff\xc3"), "a\xff\xc3");
}

TEST(TextMatch, ContainsStartsWithEndsWith) {
  EXPECT_TRUE(matchText(TextOp::Contains, "Re: FATURA de novembro", "fatura", false));
  EXPECT_TRUE(matchText(TextOp::Contains, "Cobrança em duplicado", "COBRANCA", false));
  EXPECT_TRUE(matchText(TextOp::Contains, "cobranca", "Cobrança", false));
  EXPECT_FALSE(matchText(TextOp::Contains, "Factura", "fatura", false));
  EXPECT_TRUE(matchText(TextOp::Contains, "na ÁREA de cliente", "area", true));
  EXPECT_TRUE(matchText(TextOp::Contains, "na área de cliente", "AREA DE", false));
  EXPECT_FALSE(matchText(TextOp::Contains, "Große Straße", "strasse", false));
  EXPECT_TRUE(matchText(TextOp::Contains, "Große Straße", "ße", true));
  EXPECT_TRUE(matchText(TextOp::Contains, "ΣΟΦΙΑ", "ΟΦ", true));
  EXPECT_FALSE(matchText(TextOp::Contains, "ΣΟΦΙΑ", "οφ", true));
  EXPECT_TRUE(matchText(TextOp::StartsWith, "Ventas@Mares.example", "ventas@", true));
  EXPECT_FALSE(matchText(TextOp::StartsWith, "ve", "ventas@", true));
  EXPECT_TRUE(matchText(TextOp::EndsWith, "lucia@EXAMPLE.ES", "@example.es", true));
  EXPECT_TRUE(matchText(TextOp::EndsWith, "Conceição", "CAO", false));
  EXPECT_FALSE(matchText(TextOp::EndsWith, "example.es.com", ".es", true));
  EXPECT_FALSE(matchText(TextOp::EndsWith, "es", "a.es", true));
  // An empty pattern is in every text; nothing is in an empty text.
  EXPECT_TRUE(matchText(TextOp::Contains, "abc", "", true));
  EXPECT_TRUE(matchText(TextOp::EndsWith, "abc", "", true));
  EXPECT_FALSE(matchText(TextOp::Contains, "", "a", true));
  // Broken UTF-8 is read byte by byte, never past the end.
  EXPECT_TRUE(matchText(TextOp::Contains, "\xc3 fatura \xe2\x82", "FATURA", false));
  EXPECT_FALSE(matchText(TextOp::Contains, "fatur\xc3", "fatura", false));
  EXPECT_TRUE(matchText(TextOp::EndsWith, "fatura\xe2\x82", "a\xe2\x82", false));
}

TEST(TextMatch, CutsAtACharacterBoundary) {
  EXPECT_EQ(cutText("fatura", 10), "fatura");
  EXPECT_EQ(cutText("não", 2), "n"); // 'ã' is two bytes: it does not fit in 2
  EXPECT_EQ(cutText("não", 3), "nã");
  EXPECT_EQ(cutText("€€", 4), "€");
}

class TextOperatorTest : public ::testing::Test {
 protected:
  TextOperatorTest() {
    setText(kSubject, "Fatura de novembro cobrada em DUPLICADO");
    setText(kFrom, "joana.ferreira@Example.PT");
    setText(kContactPoint, "apoio@mares-telecom.example");
    // No customer name: a missing text.
    listStore_ = {word("pt"), word("en")};
    item_.attributes = {{symbols_.intern("tags"), Value::ofList(listStore_.data(), 2)},
                        {symbols_.intern("tier"), word("Gold")}};
  }

  // The texts lie one after the other at the start of the item's store, as the engine keeps them.
  void setText(ItemText which, std::string_view text) {
    texts_[which] = text;
    item_.textStore.clear();
    for (std::size_t i = 0; i < kItemTexts; ++i) {
      item_.textSizes[i] = static_cast<std::uint16_t>(texts_[i].size());
      item_.textStore.insert(item_.textStore.end(), texts_[i].begin(), texts_[i].end());
    }
  }

  Value word(std::string_view text) {
    const Symbol s = symbols_.intern(text);
    return Value::ofString(symbols_.text(s), s);
  }

  bool eval(std::string_view text, std::string_view body = {}) {
    auto parsed = parseExpression(text, ExpressionScope::Rule);
    EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed ? "" : parsed.error().format());
    if (!parsed) {
      return false;
    }
    auto compiled = CompiledExpression::compile(parsed.value(), symbols_, media_);
    EXPECT_TRUE(compiled.ok());
    return compiled.value().matches(
        EvalContext{nullptr, &item_, 0, &symbols_, &stateValues_, body});
  }

  ParseError error(std::string_view text, ExpressionScope scope = ExpressionScope::Rule) {
    auto error = checkExpression(text, scope);
    EXPECT_TRUE(error.has_value()) << text << " should not compile";
    return error.value_or(ParseError{});
  }

  SymbolTable symbols_;
  MediaTable media_{kMaxMedia};
  std::array<Value, 6> stateValues_;
  std::array<std::string, kItemTexts> texts_;
  std::vector<Value> listStore_;
  ItemRecord item_;
};

TEST_F(TextOperatorTest, ContainsIgnoresCaseAndAccents) {
  EXPECT_TRUE(eval(R"(item.subject contains "fatura")"));
  EXPECT_TRUE(eval(R"(item.subject contains "FATURA DE")"));
  EXPECT_TRUE(eval(R"(item.subject contains "duplicado")"));
  EXPECT_FALSE(eval(R"(item.subject contains "factura")"));
  EXPECT_TRUE(eval(R"(item.body contains "cobranca")", "Reclamação de COBRANÇA"));
  EXPECT_TRUE(eval(R"(item.body contains "reclamação")", "RECLAMACAO"));
}

TEST_F(TextOperatorTest, AListMatchesWhenAnyElementDoes) {
  EXPECT_TRUE(eval(R"(item.subject contains ["invoice", "factura", "fatura"])"));
  EXPECT_FALSE(eval(R"(item.subject contains ["invoice", "factura"])"));
  EXPECT_FALSE(eval(R"(item.subject contains [])"));
  EXPECT_TRUE(eval(R"(item.from endsWith [".es", ".pt"])"));
  // A list attribute on the left: any of its elements.
  EXPECT_TRUE(eval(R"(item.tags contains "P")"));
  EXPECT_FALSE(eval(R"(item.tags startsWith "f")"));
}

TEST_F(TextOperatorTest, StartsWithAndEndsWith) {
  EXPECT_TRUE(eval(R"(item.from endsWith "@example.pt")"));
  EXPECT_FALSE(eval(R"(item.from endsWith "@example.es")"));
  EXPECT_TRUE(eval(R"(item.contactPoint startsWith "APOIO@")"));
  EXPECT_FALSE(eval(R"(item.contactPoint startsWith "ventas@")"));
  EXPECT_TRUE(eval(R"(item.subject startsWith "fatura" and item.subject endsWith "duplicado")"));
  // A path on the right is folded as it is read.
  EXPECT_TRUE(eval(R"("gold customer" startsWith item.tier)"));
}

TEST_F(TextOperatorTest, MissingTextsNeverMatchAndNotNegates) {
  EXPECT_FALSE(eval(R"(item.customer.name contains "")"));
  EXPECT_FALSE(eval(R"(item.body contains "fatura")"));
  EXPECT_FALSE(eval(R"(item.region startsWith "north")"));
  EXPECT_TRUE(eval(R"(item.body not contains "fatura")"));
  EXPECT_TRUE(eval(R"(item.subject not contains "invoice")"));
  EXPECT_FALSE(eval(R"(item.from not endsWith ".pt")"));
  EXPECT_TRUE(eval(R"(not item.from startsWith "ana")"));
  // Numbers are not text.
  EXPECT_FALSE(eval(R"(item.priority contains "5")"));
}

TEST_F(TextOperatorTest, FieldsReadAsWholeValuesToo) {
  EXPECT_TRUE(eval(R"(item.contactPoint == "apoio@mares-telecom.example")"));
  EXPECT_TRUE(eval(R"(item.from in ["joana.ferreira@Example.PT"])"));
  EXPECT_FALSE(eval(R"(item.customer.name)"));
}

TEST_F(TextOperatorTest, LiteralsAreFoldedOnceWhenCompiled) {
  auto parsed = parseExpression(R"(item.subject contains ["invoice", "cobrança"] or
                                   item.from endsWith ".PT" and item.body contains "ção")",
                                ExpressionScope::Rule);
  ASSERT_TRUE(parsed.ok());
  auto compiled = CompiledExpression::compile(parsed.value(), symbols_, media_);
  ASSERT_TRUE(compiled.ok());
  // The literals were folded when compiling: evaluation folds only the item's texts.
  EXPECT_NE(symbols_.find("cobranca"), kNoSymbol);
  EXPECT_NE(symbols_.find(".pt"), kNoSymbol);
  EXPECT_TRUE(compiled.value().matches(
      EvalContext{nullptr, &item_, 0, &symbols_, &stateValues_, "Não há informação"}));
}

TEST_F(TextOperatorTest, ParseErrorsNameTheColumn) {
  auto e = error(R"(item.subject contains)");
  EXPECT_EQ(e.column, 22u);
  EXPECT_EQ(e.reason, "expected a value after 'contains', found the end of the expression");

  e = error(R"(item.subject contains 5)");
  EXPECT_EQ(e.column, 23u);
  EXPECT_EQ(e.reason, "'contains' needs a string, a list of strings or a path on its right");

  e = error(R"(item.subject contains ["fatura", 7])");
  EXPECT_EQ(e.column, 34u);
  EXPECT_EQ(e.reason, "the list after 'contains' holds strings only");

  e = error(R"(item.from not endsWith)");
  EXPECT_EQ(e.column, 23u);
  EXPECT_EQ(e.reason, "expected a value after 'endsWith', found the end of the expression");

  e = error(R"(item.from not like ".pt")");
  EXPECT_EQ(e.column, 15u);

  e = error(R"(5 startsWith "5")");
  EXPECT_EQ(e.column, 1u);
  EXPECT_EQ(e.reason,
            "'startsWith' needs text on its left: a path such as item.subject, or a string");

  e = error(R"(item.subject contains "a" contains "b")");
  EXPECT_EQ(e.column, 27u);
  EXPECT_EQ(e.reason, "comparisons do not chain; join them with 'and'");

  e = error(R"(item.subject == "x" and contains "y")");
  EXPECT_EQ(e.column, 25u);
}

TEST_F(TextOperatorTest, TheBodyIsForRulesOnly) {
  EXPECT_FALSE(checkExpression(R"(item.body contains "x")", ExpressionScope::Rule));
  auto e = error(R"(agent.skills.billing > 3 and item.body contains "x")", ExpressionScope::Target);
  EXPECT_EQ(e.column, 35u);
  EXPECT_EQ(e.reason, "'item.body' is for classification rules only: the engine does not keep "
                      "the body once the item is classified");
  EXPECT_FALSE(checkExpression(R"(item.subject contains "x" and item.customer.name == "Ana")",
                               ExpressionScope::Target));
  e = error("item.customer.email");
  EXPECT_EQ(e.column, 15u);
}

} // namespace
} // namespace switchboard::routing
