#include "message_encoder.h"

#include "message_layout.h"
#include "switchboard/xml_text.h"

namespace switchboard {
namespace {

using layout::FieldKind;
using layout::FieldLayout;
using layout::TypeLayout;

constexpr std::string_view kNamespaceDeclaration = " xmlns=\"urn:switchboard:message:v1\"";
static_assert(kNamespaceDeclaration.substr(8, kMessageNamespace.size()) == kMessageNamespace);

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void element(std::string_view name, const TypeLayout& type, const void* object,
               std::string_view extraAttributes = {}) {
    out_ += '<';
    out_ += name;
    out_ += extraAttributes;
    for (const FieldLayout& field : type.fields) {
      if (field.kind == FieldKind::Attribute && format(field, object)) {
        out_ += ' ';
        out_ += field.name;
        out_ += "=\"";
        xml::appendEscaped(scratch_, out_, true);
        out_ += '"';
      }
    }
    bool hasContent = type.content != nullptr && format(*type.content, object) && !scratch_.empty();
    if (!type.hasChildren && !hasContent) {
      out_ += "/>";
      return;
    }
    out_ += '>';
    if (hasContent) {
      xml::appendEscaped(scratch_, out_, false);
    }
    for (const FieldLayout& field : type.fields) {
      children(field, object);
    }
    out_ += "</";
    out_ += name;
    out_ += '>';
  }

 private:
  // Formats a scalar field into scratch_; false when the optional member is absent.
  bool format(const FieldLayout& field, const void* object) {
    scratch_.clear();
    return field.format(object, scratch_);
  }

  void children(const FieldLayout& field, const void* object) {
    switch (field.kind) {
    case FieldKind::Attribute:
    case FieldKind::Content:
      return;
    case FieldKind::Text:
      if (format(field, object)) {
        out_ += '<';
        out_ += field.name;
        out_ += '>';
        xml::appendEscaped(scratch_, out_, false);
        out_ += "</";
        out_ += field.name;
        out_ += '>';
      }
      return;
    case FieldKind::Child:
    case FieldKind::List:
      for (std::size_t i = 0, n = field.count(object); i < n; ++i) {
        element(field.name, field.nested(), field.at(object, i));
      }
      return;
    case FieldKind::Choice: {
      const void* variant = field.constVariant(object);
      const layout::Alternative& chosen = field.alternatives[field.index(variant)];
      element(chosen.name, chosen.layout(), chosen.get(variant));
      return;
    }
    }
  }

  std::string& out_;
  std::string scratch_;
};

} // namespace

std::string encodeMessage(const Message& message) {
  std::string out;
  out.reserve(2048);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  Writer writer(out);
  writer.element("message", layout::messageLayout(), &message, kNamespaceDeclaration);
  out += '\n';
  return out;
}

} // namespace switchboard
