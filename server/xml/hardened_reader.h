#pragma once

// What every Xerces-C reader in Switchboard shares: the library's start-up, and the lock-down of
// a SAX2 reader that reads untrusted documents (messages from drivers, configurations).

#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/util/SecurityManager.hpp>

namespace switchboard::xml {

/// Keeps Xerces-C initialised while it lives. Xerces counts Initialize() and Terminate() calls
/// but does not guard them against threads; every instance takes one lock for both, so codecs and
/// configuration readers may be made and dropped on any thread.
class XercesRuntime {
 public:
  XercesRuntime();
  ~XercesRuntime();
  XercesRuntime(const XercesRuntime&) = delete;
  XercesRuntime& operator=(const XercesRuntime&) = delete;
};

/// Documents never declare entities; the limit bounds any expansion that slips past startDTD.
inline constexpr XMLSize_t kEntityExpansionLimit = 16;

/// Sets `security` to kEntityExpansionLimit and configures `reader` to validate against the
/// grammars already in its (locked) grammar pool and nothing else: namespaces and schema
/// validation on, no schema or DTD loading, no default entity resolution, validation errors
/// fatal. The caller's handlers must still refuse a DOCTYPE (LexicalHandler::startDTD) and
/// resolve no entity. `security` must outlive the reader.
void harden(xercesc::SAX2XMLReader& reader, xercesc::SecurityManager& security);

} // namespace switchboard::xml
