#pragma once

// The configuration grammar: config.xsd and the drivers' schema parts, compiled into the program
// and loaded from memory. Xerces-C types stay inside server/config.

#include <xercesc/framework/XMLGrammarPool.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

/// One driver's schema part, embedded at build time (server/config/CMakeLists.txt).
struct SchemaPart {
  std::string_view fileName; ///< e.g. "maildir.xsd"; the element it declares is "maildir"
  std::string_view (*text)();
};

/// Every driver schema part this program was built with (generated).
std::span<const SchemaPart> configSchemaParts();

/// The element names of the driver types this program knows ("maildir"), from the part names
/// (connector parts, named *_connector.xsd, are left out).
std::vector<std::string> knownDriverTypes();

/// A grammar pool holding the configuration schema with every part, locked against changes.
/// Call between XMLPlatformUtils::Initialize() and Terminate(). Throws std::runtime_error when
/// the embedded schema does not load (a defect of the build, not of a configuration).
std::unique_ptr<xercesc::XMLGrammarPool> loadConfigGrammar();

} // namespace switchboard
