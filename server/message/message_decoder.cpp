#include "message_decoder.h"

#include "switchboard/xml_text.h"

#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>

namespace switchboard {
namespace {

using layout::FieldKind;
using layout::FieldLayout;

constexpr std::u16string_view kRoot = u"message";
constexpr std::u16string_view kNamespace = u"urn:switchboard:message:v1";

std::string utf8(std::u16string_view text) {
  std::string out;
  xml::appendUtf8(text, out);
  return out;
}

std::u16string_view view(const XMLCh* text) {
  return text == nullptr ? std::u16string_view{} : std::u16string_view{text};
}

std::string quoted(std::u16string_view name) {
  return "'" + utf8(name) + "'";
}

} // namespace

MessageDecoder::MessageDecoder(std::size_t maxDepth) : maxDepth_(maxDepth), frames_(maxDepth + 1) {}

void MessageDecoder::begin(Message& target) {
  target_ = &target;
  depth_ = 0;
}

void MessageDecoder::setDocumentLocator(const xercesc::Locator* locator) {
  locator_ = locator;
}

void MessageDecoder::fail(DecodeError::Kind kind, std::string reason) const {
  DecodeError error{kind, 0, 0, std::move(reason)};
  if (locator_ != nullptr) {
    error.line = static_cast<std::size_t>(locator_->getLineNumber());
    error.column = static_cast<std::size_t>(locator_->getColumnNumber());
  }
  throw DecodeFailure{std::move(error)};
}

void MessageDecoder::startElement(const XMLCh* uri, const XMLCh* localName, const XMLCh*,
                                  const xercesc::Attributes& attributes) {
  if (depth_ >= maxDepth_) {
    fail(DecodeError::Kind::TooDeep,
         "elements are nested deeper than the limit of " + std::to_string(maxDepth_));
  }
  std::u16string_view name = view(localName);
  Frame& frame = frames_[depth_];
  enter(frame, name, uri);
  frame.lastChild = nullptr;
  frame.text.clear();
  frame.collecting = frame.textField != nullptr || frame.type->content != nullptr;
  if (frame.type != nullptr) {
    readAttributes(frame, name, attributes);
  } else if (attributes.getLength() != 0) {
    fail(DecodeError::Kind::Invalid, "element " + quoted(name) + " takes no attributes");
  }
  ++depth_;
}

// Points `frame` at the object that element `name` fills, as its parent's layout says.
void MessageDecoder::enter(Frame& frame, std::u16string_view name, const XMLCh* uri) {
  frame.textField = nullptr;
  if (depth_ == 0) {
    if (name != kRoot || view(uri) != kNamespace) {
      fail(DecodeError::Kind::Invalid,
           "the root element must be 'message' in namespace " + std::string(kMessageNamespace));
    }
    frame.object = target_;
    frame.type = &layout::messageLayout();
    frame.name = "message";
    return;
  }
  Frame& parent = frames_[depth_ - 1];
  const FieldLayout* field = parent.type == nullptr ? nullptr : parent.type->element(name);
  if (field == nullptr) {
    fail(DecodeError::Kind::Invalid, "element " + quoted(name) + " is not allowed here");
  }
  switch (field->kind) {
  case FieldKind::Text:
    checkOrder(parent, *field, field->name);
    frame.object = parent.object;
    frame.type = nullptr;
    frame.textField = field;
    frame.name = field->name;
    return;
  case FieldKind::Child:
  case FieldKind::List:
    checkOrder(parent, *field, field->name);
    frame.object = field->emplace(parent.object);
    frame.type = &field->nested();
    frame.name = field->name;
    return;
  case FieldKind::Choice:
    for (const layout::Alternative& alternative : field->alternatives) {
      if (alternative.wideName == name) {
        checkOrder(parent, *field, alternative.name);
        frame.object = alternative.emplace(field->variant(parent.object));
        frame.type = &alternative.layout();
        frame.name = alternative.name;
        return;
      }
    }
    break;
  case FieldKind::Attribute:
  case FieldKind::Content:
    break;
  }
  fail(DecodeError::Kind::Invalid, "element " + quoted(name) + " is not allowed here");
}

// Xerces checks a content model only at the parent's end tag; checking order and repetition at
// each start tag lets the error point at the element that is out of place.
void MessageDecoder::checkOrder(Frame& parent, const FieldLayout& field, std::string_view name) {
  if (parent.lastChild != nullptr) {
    if (&field < parent.lastChild) {
      fail(DecodeError::Kind::Invalid, "element '" + std::string(name) + "' must come before '" +
                                           std::string(parent.lastChildName) + "' in '" +
                                           std::string(parent.name) + "'");
    }
    if (&field == parent.lastChild && field.kind != FieldKind::List) {
      fail(DecodeError::Kind::Invalid,
           "element '" + std::string(name) + "' cannot follow '" +
               std::string(parent.lastChildName) + "' in '" + std::string(parent.name) +
               (field.kind == FieldKind::Choice ? "': only one of them is allowed"
                                                : "': it is allowed only once"));
    }
  }
  parent.lastChild = &field;
  parent.lastChildName = name;
}

void MessageDecoder::readAttributes(Frame& frame, std::u16string_view element,
                                    const xercesc::Attributes& attributes) {
  for (XMLSize_t i = 0, n = attributes.getLength(); i < n; ++i) {
    if (!view(attributes.getURI(i)).empty()) {
      continue; // xsi:schemaLocation and other foreign attributes carry nothing for us
    }
    std::u16string_view name = view(attributes.getLocalName(i));
    const FieldLayout* field = frame.type->attribute(name);
    if (field == nullptr) {
      fail(DecodeError::Kind::Invalid,
           "attribute " + quoted(name) + " is not allowed on element " + quoted(element));
    }
    scratch_.clear();
    xml::appendUtf8(view(attributes.getValue(i)), scratch_);
    if (!field->parse(frame.object, scratch_)) {
      fail(DecodeError::Kind::Invalid,
           "'" + scratch_ + "' is not a valid value for attribute " + quoted(name));
    }
  }
}

void MessageDecoder::endElement(const XMLCh*, const XMLCh* localName, const XMLCh*) {
  Frame& frame = frames_[--depth_];
  if (frame.collecting) {
    const FieldLayout* field = frame.textField != nullptr ? frame.textField : frame.type->content;
    if (!field->parse(frame.object, frame.text)) {
      fail(DecodeError::Kind::Invalid,
           "'" + frame.text + "' is not a valid value for element " + quoted(view(localName)));
    }
  }
  if (frame.type != nullptr && frame.type->check != nullptr) {
    if (std::string broken = frame.type->check(frame.object); !broken.empty()) {
      fail(DecodeError::Kind::Invalid, std::move(broken));
    }
  }
}

void MessageDecoder::characters(const XMLCh* chars, XMLSize_t length) {
  if (depth_ == 0) {
    return;
  }
  Frame& frame = frames_[depth_ - 1];
  if (frame.collecting) {
    xml::appendUtf8({chars, static_cast<std::size_t>(length)}, frame.text);
  }
}

void MessageDecoder::warning(const xercesc::SAXParseException&) {}

void MessageDecoder::error(const xercesc::SAXParseException& exception) {
  throw DecodeFailure{
      {DecodeError::Kind::Invalid, static_cast<std::size_t>(exception.getLineNumber()),
       static_cast<std::size_t>(exception.getColumnNumber()), utf8(view(exception.getMessage()))}};
}

void MessageDecoder::fatalError(const xercesc::SAXParseException& exception) {
  throw DecodeFailure{
      {DecodeError::Kind::Malformed, static_cast<std::size_t>(exception.getLineNumber()),
       static_cast<std::size_t>(exception.getColumnNumber()), utf8(view(exception.getMessage()))}};
}

void MessageDecoder::startDTD(const XMLCh*, const XMLCh*, const XMLCh*) {
  fail(DecodeError::Kind::Forbidden, "a DOCTYPE is not allowed in a message");
}

void MessageDecoder::startEntity(const XMLCh* name) {
  fail(DecodeError::Kind::Forbidden, "entity " + quoted(view(name)) + " is not allowed");
}

xercesc::InputSource* MessageDecoder::resolveEntity(const XMLCh*, const XMLCh* systemId) {
  fail(DecodeError::Kind::Forbidden,
       "the external resource " + quoted(view(systemId)) + " is never fetched");
}

} // namespace switchboard
