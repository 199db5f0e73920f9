#include "config_schema.h"

#include "switchboard/xml_text.h"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/XMLGrammarPoolImpl.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/XMLUni.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include <stdexcept>

namespace switchboard {
namespace embedded {
std::string_view configSchema();
} // namespace embedded

namespace {

using namespace xercesc;

constexpr std::string_view kMainSchema = "config.xsd";

std::string utf8(const XMLCh* text) {
  std::string out;
  if (text != nullptr) {
    xml::appendUtf8(text, out);
  }
  return out;
}

std::string_view fileName(std::string_view location) {
  std::size_t slash = location.find_last_of('/');
  return slash == std::string_view::npos ? location : location.substr(slash + 1);
}

MemBufInputSource* memorySource(std::string_view text, const char* name) {
  return new MemBufInputSource(reinterpret_cast<const XMLByte*>(text.data()), text.size(), name);
}

// Serves config.xsd and the parts from memory while the grammar loads, and refuses anything else:
// the grammar never depends on the file system or the network.
class GrammarLoader final : public DefaultHandler {
 public:
  InputSource* resolveEntity(const XMLCh*, const XMLCh* systemId) override {
    std::string location = utf8(systemId);
    std::string_view name = fileName(location);
    if (name == kMainSchema) {
      return memorySource(embedded::configSchema(), "config.xsd");
    }
    for (const SchemaPart& part : configSchemaParts()) {
      if (name == part.fileName) {
        return memorySource(part.text(), part.fileName.data());
      }
    }
    throw std::runtime_error("configuration schema includes '" + location +
                             "', which is not built in");
  }
  void error(const SAXParseException& e) override { fail(e); }
  void fatalError(const SAXParseException& e) override { fail(e); }

 private:
  [[noreturn]] static void fail(const SAXParseException& e) {
    throw std::runtime_error("configuration schema does not load: " + utf8(e.getSystemId()) + ":" +
                             std::to_string(e.getLineNumber()) + ": " + utf8(e.getMessage()));
  }
};

// The schema the documents are validated against: config.xsd and every part, by inclusion.
std::string rootSchema() {
  std::string root = R"(<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:switchboard:config:v1"
           elementFormDefault="qualified">
  <xs:include schemaLocation="config.xsd"/>
)";
  for (const SchemaPart& part : configSchemaParts()) {
    root += "  <xs:include schemaLocation=\"" + std::string(part.fileName) + "\"/>\n";
  }
  root += "</xs:schema>\n";
  return root;
}

} // namespace

std::vector<std::string> knownDriverTypes() {
  std::vector<std::string> types;
  for (const SchemaPart& part : configSchemaParts()) {
    std::string_view name = part.fileName;
    // A part that declares no driver element (types the drivers share, like smtp.xsd, and the CRM
    // connectors' parts) names no driver type.
    if (part.text().find("substitutionGroup=\"driver\"") == std::string_view::npos) {
      continue;
    }
    types.emplace_back(name.substr(0, name.rfind('.')));
  }
  return types;
}

std::unique_ptr<XMLGrammarPool> loadConfigGrammar() {
  std::unique_ptr<XMLGrammarPool> pool(new XMLGrammarPoolImpl(XMLPlatformUtils::fgMemoryManager));
  std::unique_ptr<SAX2XMLReader> loader(
      XMLReaderFactory::createXMLReader(XMLPlatformUtils::fgMemoryManager, pool.get()));
  GrammarLoader handler;
  loader->setErrorHandler(&handler);
  loader->setEntityResolver(&handler);
  loader->setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
  loader->setFeature(XMLUni::fgXercesSchema, true);
  std::string root = rootSchema();
  MemBufInputSource source(reinterpret_cast<const XMLByte*>(root.data()), root.size(),
                           "switchboard-config.xsd");
  if (loader->loadGrammar(source, Grammar::SchemaGrammarType, true) == nullptr) {
    throw std::runtime_error("configuration schema does not load");
  }
  pool->lockPool();
  return pool;
}

} // namespace switchboard
