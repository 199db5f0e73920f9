#include "pattern_warmup.h"

#include <xercesc/framework/XMLAttDefList.hpp>
#include <xercesc/util/regx/RangeToken.hpp>
#include <xercesc/util/regx/RegularExpression.hpp>
#include <xercesc/util/regx/Token.hpp>
#include <xercesc/validators/datatype/DatatypeValidatorFactory.hpp>
#include <xercesc/validators/datatype/ListDatatypeValidator.hpp>
#include <xercesc/validators/datatype/UnionDatatypeValidator.hpp>
#include <xercesc/validators/schema/ComplexTypeInfo.hpp>
#include <xercesc/validators/schema/SchemaAttDef.hpp>
#include <xercesc/validators/schema/SchemaElementDecl.hpp>

#include <unordered_set>

namespace switchboard {
namespace {

using namespace xercesc;

// Xerces keeps a validator's compiled pattern and the expression's token tree protected, with no
// public accessor. Naming them through a derived class yields a pointer to the base's member,
// which the language allows; neither class is ever instantiated.
struct RegexAccess final : DatatypeValidator {
  static RegularExpression* of(const DatatypeValidator& validator) {
    return (validator.*(&RegexAccess::getRegex))();
  }
};

struct TokenTreeAccess final : RegularExpression {
  static Token* of(const RegularExpression& expression) {
    return expression.*(&TokenTreeAccess::fTokenTree);
  }
};

class Walker {
 public:
  void validator(const DatatypeValidator* validator) {
    while (validator != nullptr && seen_.insert(validator).second) {
      ++result_.validators;
      if (const RegularExpression* expression = RegexAccess::of(*validator)) {
        ++result_.patterns;
        token(TokenTreeAccess::of(*expression));
      }
      if (validator->getType() == DatatypeValidator::List) {
        this->validator(static_cast<const ListDatatypeValidator*>(validator)->getItemTypeDTV());
      } else if (validator->getType() == DatatypeValidator::Union) {
        if (const RefVectorOf<DatatypeValidator>* members =
                static_cast<const UnionDatatypeValidator*>(validator)->getMemberTypeValidators()) {
          for (XMLSize_t i = 0; i < members->size(); ++i) {
            this->validator(members->elementAt(i));
          }
        }
      }
      validator = validator->getBaseValidator();
    }
  }

  void registry(DVHashTable* validators) {
    if (validators == nullptr) {
      return;
    }
    RefHashTableOfEnumerator<DatatypeValidator> each(validators, false);
    while (each.hasMoreElements()) {
      validator(&each.nextElement());
    }
  }

  void attributes(XMLAttDefList& list) {
    for (XMLSize_t i = 0; i < list.getAttDefCount(); ++i) {
      validator(static_cast<SchemaAttDef&>(list.getAttDef(i)).getDatatypeValidator());
    }
  }

  void complexType(ComplexTypeInfo* type) {
    if (type == nullptr || !seen_.insert(type).second) {
      return;
    }
    ++result_.complexTypes;
    // Xerces builds these on first use too, without a lock: the content model on the first
    // element of the type, its text form on the first refusal that names it.
    type->getContentModel();
    type->getFormattedContentModel();
    validator(type->getDatatypeValidator());
    validator(type->getBaseDatatypeValidator());
    if (type->hasAttDefs()) {
      attributes(type->getAttDefList());
    }
    complexType(type->getBaseComplexTypeInfo());
  }

  void grammar(SchemaGrammar& grammar) {
    registry(grammar.getDatatypeRegistry()->getUserDefinedRegistry());
    if (RefHashTableOf<ComplexTypeInfo>* types = grammar.getComplexTypeRegistry()) {
      RefHashTableOfEnumerator<ComplexTypeInfo> each(types, false);
      while (each.hasMoreElements()) {
        complexType(&each.nextElement());
      }
    }
    if (RefHashTableOf<XMLAttDef>* globals = grammar.getAttributeDeclRegistry()) {
      RefHashTableOfEnumerator<XMLAttDef> each(globals, false);
      while (each.hasMoreElements()) {
        validator(static_cast<SchemaAttDef&>(each.nextElement()).getDatatypeValidator());
      }
    }
    RefHash3KeysIdPoolEnumerator<SchemaElementDecl> elements = grammar.getElemEnumerator();
    while (elements.hasMoreElements()) {
      SchemaElementDecl& element = elements.nextElement();
      validator(element.getDatatypeValidator());
      complexType(element.getComplexTypeInfo());
    }
  }

  PatternWarmup result() const { return result_; }

 private:
  // Shared classes such as \d or \S are one token for the whole process: built once, seen once.
  void token(Token* token) {
    if (token == nullptr || !seen_.insert(token).second) {
      return;
    }
    const Token::tokType type = token->getTokenType();
    if (type == Token::T_RANGE || type == Token::T_NRANGE) {
      static_cast<RangeToken*>(token)->createMap();
      ++result_.classes;
      return;
    }
    for (XMLSize_t i = 0; i < token->size(); ++i) {
      this->token(token->getChild(i));
    }
  }

  std::unordered_set<const void*> seen_;
  PatternWarmup result_;
};

} // namespace

PatternWarmup warmPatterns(SchemaGrammar& grammar) {
  Walker walker;
  walker.grammar(grammar);
  return walker.result();
}

PatternWarmup warmPatterns(DVHashTable* validators) {
  Walker walker;
  walker.registry(validators);
  return walker.result();
}

} // namespace switchboard
