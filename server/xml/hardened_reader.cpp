#include "hardened_reader.h"

#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/XMLUni.hpp>

#include <mutex>

namespace switchboard::xml {
namespace {

std::mutex& runtimeMutex() {
  static std::mutex mutex;
  return mutex;
}

} // namespace

XercesRuntime::XercesRuntime() {
  std::lock_guard lock(runtimeMutex());
  xercesc::XMLPlatformUtils::Initialize();
}

XercesRuntime::~XercesRuntime() {
  std::lock_guard lock(runtimeMutex());
  xercesc::XMLPlatformUtils::Terminate();
}

void harden(xercesc::SAX2XMLReader& reader, xercesc::SecurityManager& security) {
  using xercesc::XMLUni;
  security.setEntityExpansionLimit(kEntityExpansionLimit);
  reader.setFeature(XMLUni::fgSAX2CoreNameSpaces, true);
  reader.setFeature(XMLUni::fgSAX2CoreValidation, true);
  reader.setFeature(XMLUni::fgXercesDynamic, false);
  reader.setFeature(XMLUni::fgXercesSchema, true);
  reader.setFeature(XMLUni::fgXercesSchemaFullChecking, false);
  reader.setFeature(XMLUni::fgXercesUseCachedGrammarInParse, true);
  reader.setFeature(XMLUni::fgXercesCacheGrammarFromParse, false);
  reader.setFeature(XMLUni::fgXercesLoadSchema, false);
  reader.setFeature(XMLUni::fgXercesLoadExternalDTD, false);
  reader.setFeature(XMLUni::fgXercesSkipDTDValidation, true);
  reader.setFeature(XMLUni::fgXercesDisableDefaultEntityResolution, true);
  reader.setFeature(XMLUni::fgXercesValidationErrorAsFatal, true);
  reader.setFeature(XMLUni::fgXercesContinueAfterFatalError, false);
  reader.setProperty(XMLUni::fgXercesSecurityManager, &security);
}

} // namespace switchboard::xml
