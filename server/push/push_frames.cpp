// What goes into a frame: the sequence mark of XML frames, JSON frames, the offer's reason.

#include "push_hub.h"

#include "hardened_reader.h"
#include "switchboard/log.h"
#include "switchboard/xml_text.h"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

namespace switchboard::push {
namespace {

// The elements message.xsd lets repeat: always arrays, even when one is present. Agents,
// customers and work items repeat in the message itself; a work item has one customer.
constexpr std::array<std::string_view, 9> kRepeated{
    "address", "attachment", "attribute", "capacity", "cc", "history", "line", "skill", "to"};
constexpr std::array<std::string_view, 3> kRepeatedInMessage{"agent", "customer", "workItem"};

// Elements of the schema's simple "text" type: plain strings.
constexpr std::array<std::string_view, 3> kText{"subject", "notes", "text"};

bool repeats(std::string_view parent, std::string_view child) {
  auto in = [&](const auto& names) {
    return std::find(names.begin(), names.end(), child) != names.end();
  };
  return in(kRepeated) || (parent == "message" && in(kRepeatedInMessage));
}

std::string utf8(const XMLCh* text) {
  std::string out;
  if (text != nullptr) {
    xml::appendUtf8(std::u16string_view(text), out);
  }
  return out;
}

void appendJsonString(std::string_view text, std::string& out) {
  out += '"';
  appendJsonEscaped(text, out);
  out += '"';
}

struct Node {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string text;
  std::vector<std::unique_ptr<Node>> children;
};

bool isBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

void appendNode(const Node& node, std::string& out) {
  bool plain = node.attributes.empty() && node.children.empty() &&
               std::find(kText.begin(), kText.end(), node.name) != kText.end();
  if (plain) {
    appendJsonString(node.text, out);
    return;
  }
  out += '{';
  bool first = true;
  auto key = [&](std::string_view name) {
    if (!first) {
      out += ',';
    }
    first = false;
    appendJsonString(name, out);
    out += ':';
  };
  for (const auto& [name, value] : node.attributes) {
    key(name);
    appendJsonString(value, out);
  }
  // Children grouped by name, in the order each name first appears.
  std::vector<const std::string*> names;
  for (const auto& child : node.children) {
    bool seen = false;
    for (const std::string* name : names) {
      seen = seen || *name == child->name;
    }
    if (!seen) {
      names.push_back(&child->name);
    }
  }
  for (const std::string* name : names) {
    key(*name);
    bool repeated = repeats(node.name, *name);
    if (repeated) {
      out += '[';
    }
    bool firstChild = true;
    for (const auto& child : node.children) {
      if (child->name != *name) {
        continue;
      }
      if (!firstChild) {
        if (!repeated) {
          break;
        }
        out += ',';
      }
      firstChild = false;
      appendNode(*child, out);
    }
    if (repeated) {
      out += ']';
    }
  }
  if (!node.children.empty() ? !isBlank(node.text) : !node.text.empty()) {
    key("text");
    appendJsonString(node.text, out);
  }
  out += '}';
}

class TreeBuilder : public xercesc::DefaultHandler {
 public:
  void startElement(const XMLCh* const /*uri*/, const XMLCh* const localname,
                    const XMLCh* const /*qname*/, const xercesc::Attributes& attributes) override {
    auto node = std::make_unique<Node>();
    node->name = utf8(localname);
    for (XMLSize_t i = 0; i < attributes.getLength(); ++i) {
      std::string qname = utf8(attributes.getQName(i));
      if (qname == "xmlns" || qname.starts_with("xmlns:")) {
        continue;
      }
      node->attributes.emplace_back(utf8(attributes.getLocalName(i)), utf8(attributes.getValue(i)));
    }
    Node* raw = node.get();
    if (stack_.empty()) {
      root_ = std::move(node);
    } else {
      stack_.back()->children.push_back(std::move(node));
    }
    stack_.push_back(raw);
  }
  void endElement(const XMLCh* const, const XMLCh* const, const XMLCh* const) override {
    stack_.pop_back();
  }
  void characters(const XMLCh* const chars, const XMLSize_t length) override {
    if (!stack_.empty()) {
      xml::appendUtf8(std::u16string_view(chars, length), stack_.back()->text);
    }
  }
  void fatalError(const xercesc::SAXParseException& e) override {
    throw std::runtime_error("not well-formed XML: " + utf8(e.getMessage()));
  }

  std::unique_ptr<Node> take() {
    stack_.clear();
    return std::move(root_);
  }

 private:
  std::unique_ptr<Node> root_;
  std::vector<Node*> stack_;
};

// One reader per thread: making one costs more than parsing a message. The documents are the
// server's own (its codec's output, its answers), so the reader neither validates nor loads.
xercesc::SAX2XMLReader& threadReader() {
  // Xerces stays initialised for as long as the process: frames are made on any thread.
  static xml::XercesRuntime runtime;
  thread_local std::unique_ptr<xercesc::SAX2XMLReader> reader = [] {
    std::unique_ptr<xercesc::SAX2XMLReader> made(xercesc::XMLReaderFactory::createXMLReader());
    made->setFeature(xercesc::XMLUni::fgSAX2CoreNameSpaces, true);
    made->setFeature(xercesc::XMLUni::fgSAX2CoreValidation, false);
    made->setFeature(xercesc::XMLUni::fgXercesLoadExternalDTD, false);
    made->setFeature(xercesc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
    return made;
  }();
  return *reader;
}

} // namespace

std::string messageToJson(std::string_view xml) {
  xercesc::SAX2XMLReader& reader = threadReader();
  TreeBuilder builder;
  reader.setContentHandler(&builder);
  reader.setErrorHandler(&builder);
  xercesc::MemBufInputSource input(reinterpret_cast<const XMLByte*>(xml.data()), xml.size(),
                                   "frame");
  try {
    reader.parse(input);
  } catch (...) {
    reader.setContentHandler(nullptr);
    reader.setErrorHandler(nullptr);
    throw;
  }
  reader.setContentHandler(nullptr);
  reader.setErrorHandler(nullptr);
  std::unique_ptr<Node> root = builder.take();
  if (!root) {
    throw std::runtime_error("not well-formed XML: no root element");
  }
  std::string out;
  out.reserve(xml.size());
  appendNode(*root, out);
  return out;
}

std::string jsonString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  appendJsonString(text, out);
  return out;
}

std::string withSequence(const std::string& xml, std::uint64_t seq) {
  std::string mark = "<?switchboard seq=\"" + std::to_string(seq) + "\"?>";
  std::size_t at = 0;
  if (xml.starts_with("<?xml")) {
    at = xml.find("?>");
    at = at == std::string::npos ? 0 : at + 2;
  }
  std::string out;
  out.reserve(xml.size() + mark.size() + 1);
  out.append(xml, 0, at);
  if (at > 0) {
    out += '\n';
  }
  out += mark;
  if (at == 0 || (at < xml.size() && xml[at] != '\n')) {
    out += '\n';
  }
  out.append(xml, at, std::string::npos);
  return out;
}

std::string reasonOf(const std::string& trace) {
  std::string out;
  bool space = false;
  for (char c : trace) {
    if (c == '\n') {
      out += ';';
      space = true;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      space = true;
    } else {
      if (space && !out.empty()) {
        out += ' ';
      }
      space = false;
      out += c;
    }
  }
  constexpr std::size_t kMax = 512;
  if (out.size() > kMax) {
    std::size_t cut = kMax - 3;
    // Never cut a UTF-8 sequence in two.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    out.resize(cut);
    out += "...";
  }
  return out;
}

std::string resyncFrame(Format format, std::uint64_t after, std::uint64_t last) {
  if (format == Format::Json) {
    return "{\"type\":\"resync\",\"after\":" + std::to_string(after) +
           ",\"last\":" + std::to_string(last) + "}";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<resync "
         "xmlns=\"urn:switchboard:stream:v1\" after=\"" +
         std::to_string(after) + "\" last=\"" + std::to_string(last) + "\"/>\n";
}

std::string answerFrame(Format format, const std::string& document) {
  if (format == Format::Xml) {
    return document;
  }
  std::string out = "{\"type\":\"response\",\"message\":";
  try {
    out += messageToJson(document);
  } catch (const std::exception&) {
    out.clear();
    out = "{\"type\":\"response\",\"document\":";
    appendJsonString(document, out);
  }
  out += '}';
  return out;
}

} // namespace switchboard::push
