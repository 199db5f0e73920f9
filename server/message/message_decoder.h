#pragma once

// The SAX2 handler that turns one validated document into a switchboard::Message, and refuses
// what a message must never contain (a DOCTYPE, entities, external resources, deep nesting).
// Xerces-C types stay inside server/message; the public headers never see them.

#include "message_layout.h"
#include "switchboard/message.h"
#include "switchboard/message_codec.h"

#include <xercesc/sax2/DefaultHandler.hpp>

#include <string>
#include <vector>

namespace switchboard {

/// Thrown from inside the parse by MessageDecoder to stop at the first refusal.
struct DecodeFailure {
  DecodeError error;
};

/// One per parser; not thread-safe. begin() before each parse.
class MessageDecoder final : public xercesc::DefaultHandler {
 public:
  explicit MessageDecoder(std::size_t maxDepth);

  /// Fills `target` during the next parse.
  void begin(Message& target);

  void setDocumentLocator(const xercesc::Locator* locator) override;
  void startElement(const XMLCh* uri, const XMLCh* localName, const XMLCh* qualifiedName,
                    const xercesc::Attributes& attributes) override;
  void endElement(const XMLCh* uri, const XMLCh* localName, const XMLCh* qualifiedName) override;
  void characters(const XMLCh* chars, XMLSize_t length) override;

  void warning(const xercesc::SAXParseException& exception) override;
  void error(const xercesc::SAXParseException& exception) override;
  void fatalError(const xercesc::SAXParseException& exception) override;

  void startDTD(const XMLCh* name, const XMLCh* publicId, const XMLCh* systemId) override;
  void startEntity(const XMLCh* name) override;
  xercesc::InputSource* resolveEntity(const XMLCh* publicId, const XMLCh* systemId) override;

 private:
  struct Frame {
    void* object = nullptr;
    const layout::TypeLayout* type = nullptr;       ///< null inside a Text element
    const layout::FieldLayout* textField = nullptr; ///< the Text field being read, if any
    bool collecting = false;                        ///< whether character data is kept
    std::string_view name;                          ///< the element's name, for errors
    const layout::FieldLayout* lastChild = nullptr; ///< the field of the last child element
    std::string_view lastChildName;
    std::string text;
  };

  [[noreturn]] void fail(DecodeError::Kind kind, std::string reason) const;
  void enter(Frame& frame, std::u16string_view name, const XMLCh* uri);
  void checkOrder(Frame& parent, const layout::FieldLayout& field, std::string_view name);
  void readAttributes(Frame& frame, std::u16string_view element,
                      const xercesc::Attributes& attributes);

  std::size_t maxDepth_;
  std::vector<Frame> frames_; ///< one per level, kept between documents to reuse their buffers
  std::size_t depth_ = 0;
  Message* target_ = nullptr;
  const xercesc::Locator* locator_ = nullptr;
  std::string scratch_;
};

} // namespace switchboard
