#include "hardened_reader.h"
#include "pattern_warmup.h"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/XMLUni.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string_view>

namespace switchboard {
namespace {

using namespace xercesc;

// One pattern facet (p1 ... p9) in each place a simple type can hide: a named restriction, a
// restriction of it with a pattern of its own, one without (it must still reach its base's), the
// anonymous types of an attribute, a local element and a global attribute, a list's item type, a
// union's member, the simple content of a complex type, and a built-in (xs:language).
constexpr std::string_view kSchema = R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:test"
           targetNamespace="urn:test" elementFormDefault="qualified">
  <xs:simpleType name="base"><xs:restriction base="xs:token">
    <xs:pattern value="[a-z]+"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="derived"><xs:restriction base="t:base">
    <xs:pattern value="[a-c]+"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="alias"><xs:restriction base="t:base"/></xs:simpleType>
  <xs:simpleType name="list"><xs:list><xs:simpleType><xs:restriction base="xs:token">
    <xs:pattern value="[0-9]+"/></xs:restriction></xs:simpleType></xs:list></xs:simpleType>
  <xs:simpleType name="union"><xs:union memberTypes="t:alias"><xs:simpleType>
    <xs:restriction base="xs:token"><xs:pattern value="\d+-[A-Z]"/></xs:restriction>
  </xs:simpleType></xs:union></xs:simpleType>
  <xs:complexType name="text"><xs:simpleContent><xs:extension base="xs:string">
    <xs:attribute name="lang" type="xs:language"/></xs:extension></xs:simpleContent></xs:complexType>
  <xs:complexType name="code"><xs:simpleContent><xs:restriction base="t:text">
    <xs:pattern value="[A-Z]{3}"/></xs:restriction></xs:simpleContent></xs:complexType>
  <xs:attribute name="global"><xs:simpleType><xs:restriction base="xs:token">
    <xs:pattern value="g[0-9]"/></xs:restriction></xs:simpleType></xs:attribute>
  <xs:element name="root">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="local"><xs:simpleType><xs:restriction base="xs:string">
          <xs:pattern value="[^@\s]+@[^@\s]+"/></xs:restriction></xs:simpleType></xs:element>
        <xs:element name="code" type="t:code"/>
      </xs:sequence>
      <xs:attribute name="a" type="t:derived"/>
      <xs:attribute name="b" type="t:alias"/>
      <xs:attribute name="c" type="t:list"/>
      <xs:attribute name="d" type="t:union"/>
      <xs:attribute ref="t:global"/>
      <xs:attribute name="e"><xs:simpleType><xs:restriction base="xs:token">
        <xs:pattern value="e[0-9]"/></xs:restriction></xs:simpleType></xs:attribute>
    </xs:complexType>
  </xs:element>
</xs:schema>
)";

class PatternWarmupTest : public ::testing::Test {
 protected:
  SchemaGrammar& load() {
    std::unique_ptr<SAX2XMLReader> loader(
        XMLReaderFactory::createXMLReader(XMLPlatformUtils::fgMemoryManager, pool_.get()));
    loader->setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
    loader->setFeature(XMLUni::fgXercesSchema, true);
    MemBufInputSource source(reinterpret_cast<const XMLByte*>(kSchema.data()), kSchema.size(),
                             "test.xsd");
    Grammar* grammar = loader->loadGrammar(source, Grammar::SchemaGrammarType, true);
    if (grammar == nullptr) {
      throw std::runtime_error("test schema does not load");
    }
    return *static_cast<SchemaGrammar*>(grammar);
  }

  xml::XercesRuntime runtime_;
  std::unique_ptr<XMLGrammarPool> pool_{new XMLGrammarPoolImpl(XMLPlatformUtils::fgMemoryManager)};
};

TEST_F(PatternWarmupTest, ReachesThePatternOfEverySimpleTypeWhereverItIsDeclared) {
  PatternWarmup warmed = warmPatterns(load());
  EXPECT_EQ(warmed.patterns, 9U); // p1 ... p9 above, each once
  EXPECT_GE(warmed.classes, 9U);
  EXPECT_GE(warmed.complexTypes, 3U); // text, code, root's anonymous type
}

TEST_F(PatternWarmupTest, ASecondWalkFindsTheSameAndIsHarmless) {
  SchemaGrammar& grammar = load();
  PatternWarmup first = warmPatterns(grammar);
  PatternWarmup second = warmPatterns(grammar);
  EXPECT_EQ(first.patterns, second.patterns);
  EXPECT_EQ(first.classes, second.classes);
  EXPECT_EQ(first.validators, second.validators);
}

} // namespace
} // namespace switchboard
