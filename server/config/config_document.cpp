#include "config_document.h"

#include "hardened_reader.h"

#include "config_schema.h"
#include "switchboard/xml_text.h"

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/sax/Locator.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/OutOfMemoryException.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/XMLException.hpp>
#include <xercesc/util/XMLUni.hpp>

#include <algorithm>
#include <mutex>

namespace switchboard {
namespace {

using namespace xercesc;

constexpr std::u16string_view kNamespace = u"urn:switchboard:config:v1";
constexpr std::size_t kMaxDepth = 32;
// Configurations never declare entities; the limit bounds any expansion that slips past startDTD.
std::u16string_view view(const XMLCh* text) {
  return text == nullptr ? std::u16string_view{} : std::u16string_view{text};
}

std::string utf8(std::u16string_view text) {
  std::string out;
  xml::appendUtf8(text, out);
  return out;
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isNameChar(char c) {
  return !isSpace(c) && c != '=' && c != '/' && c != '>' && c != '<' && c != '"' && c != '\'';
}

std::string trim(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && isSpace(text[begin])) {
    ++begin;
  }
  while (end > begin && isSpace(text[end - 1])) {
    --end;
  }
  return std::string(text.substr(begin, end - begin));
}

// The length in bytes of the UTF-8 sequence that starts with `lead` (1 for stray bytes).
std::size_t sequenceLength(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF4) {
    return 4;
  }
  if (lead >= 0xE0) {
    return lead <= 0xEF ? 3 : 1;
  }
  return lead >= 0xC2 ? 2 : 1;
}

// The byte length of the reference that starts at text[at] ('&'), and the length of its
// replacement text in UTF-8; {0, 0} when it is not a reference.
std::pair<std::size_t, std::size_t> reference(std::string_view text, std::size_t at) {
  std::size_t semicolon = text.find(';', at);
  if (semicolon == std::string_view::npos || semicolon - at > 12) {
    return {0, 0};
  }
  std::string_view name = text.substr(at + 1, semicolon - at - 1);
  std::size_t decoded = 1;
  if (name.size() > 1 && name[0] == '#') {
    bool hex = name[1] == 'x';
    unsigned long code =
        std::strtoul(std::string(name.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10);
    decoded = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return {semicolon - at + 1, decoded};
}

// The attributes of a start tag as written: name, where the name starts, and the value with
// references replaced.
struct RawAttribute {
  std::string name;
  std::size_t offset = 0;
  std::string value;
};

struct RawTag {
  std::size_t offset = 0; ///< of '<'
  std::string name;       ///< local name
  bool end = false;       ///< an end tag
  std::vector<RawAttribute> attributes;
};

std::string decode(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    std::size_t length = reference(raw, i).first;
    std::string_view name = raw.substr(i + 1, length >= 2 ? length - 2 : 0);
    static constexpr std::pair<std::string_view, char> kNamed[] = {
        {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    auto named = std::find_if(std::begin(kNamed), std::end(kNamed),
                              [&](const auto& entry) { return entry.first == name; });
    if (length == 0 || (named == std::end(kNamed) && (name.empty() || name.front() != '#'))) {
      out += raw[i];
      continue;
    }
    if (named != std::end(kNamed)) {
      out += named->second;
    } else {
      bool hex = name.size() > 1 && name[1] == 'x';
      unsigned long code =
          std::strtoul(std::string(name.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10);
      std::u16string wide;
      if (code >= 0x10000) {
        wide += static_cast<char16_t>(0xD800 + ((code - 0x10000) >> 10));
        wide += static_cast<char16_t>(0xDC00 + ((code - 0x10000) & 0x3FF));
      } else {
        wide += static_cast<char16_t>(code);
      }
      xml::appendUtf8(wide, out);
    }
    i += length - 1;
  }
  return out;
}

// The tag that starts at or before `before` (the last '<' ahead of it), read as far as it goes.
std::optional<RawTag> tagBefore(std::string_view text, std::size_t before) {
  if (before == 0) {
    return std::nullopt;
  }
  std::size_t open = text.rfind('<', std::min(before, text.size()) - 1);
  if (open == std::string_view::npos || open + 1 >= text.size() || text[open + 1] == '!' ||
      text[open + 1] == '?') {
    return std::nullopt;
  }
  RawTag tag;
  tag.offset = open;
  std::size_t i = open + 1;
  if (text[i] == '/') {
    tag.end = true;
    ++i;
  }
  std::size_t nameStart = i;
  while (i < text.size() && isNameChar(text[i])) {
    ++i;
  }
  std::string_view qualified = text.substr(nameStart, i - nameStart);
  std::size_t colon = qualified.find(':');
  tag.name = std::string(colon == std::string_view::npos ? qualified : qualified.substr(colon + 1));
  while (i < text.size()) {
    while (i < text.size() && isSpace(text[i])) {
      ++i;
    }
    if (i >= text.size() || !isNameChar(text[i])) {
      break;
    }
    RawAttribute attribute;
    attribute.offset = i;
    while (i < text.size() && isNameChar(text[i])) {
      attribute.name += text[i++];
    }
    while (i < text.size() && isSpace(text[i])) {
      ++i;
    }
    if (i >= text.size() || text[i] != '=') {
      tag.attributes.push_back(std::move(attribute));
      break;
    }
    ++i;
    while (i < text.size() && isSpace(text[i])) {
      ++i;
    }
    if (i >= text.size() || (text[i] != '"' && text[i] != '\'')) {
      tag.attributes.push_back(std::move(attribute));
      break;
    }
    char quote = text[i++];
    std::size_t close = text.find(quote, i);
    std::size_t stop = close == std::string_view::npos ? text.size() : close;
    attribute.value = decode(text.substr(i, stop - i));
    tag.attributes.push_back(std::move(attribute));
    i = stop + 1;
  }
  return tag;
}

// Attribute names whose values are secrets: never quoted in an error.
bool isSecretAttribute(std::string_view name) {
  return name == "secret" || name == "connection";
}

void replaceAll(std::string& text, std::string_view what, std::string_view with) {
  for (std::size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

// The text between the first `open` and the next `close` in `text`.
std::optional<std::string> between(std::string_view text, std::string_view open,
                                   std::string_view close = "'") {
  std::size_t start = text.find(open);
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  start += open.size();
  std::size_t end = text.find(close, start);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(text.substr(start, end - start));
}

// Xerces names the regular expression a value failed; say what the value should look like.
std::optional<std::string> expected(std::string_view pattern) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"(us|ms|s|m|h|d)", "a duration (write 0, 500ms, 30s, 2m, 1h, 1d or 1m30s)"},
      {"(KiB|MiB|GiB", "a byte size (write 1048576, 512KiB, 25MiB or 1GiB)"},
      {"[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}",
       "an id (up to 128 letters, digits, '.', '_' or '-', starting with a letter or digit)"},
      {"[A-Za-z_][A-Za-z0-9_\\-]{0,63}",
       "a name (up to 64 letters, digits, '_' or '-', starting with a letter or '_')"},
      {"[a-z][a-z0-9\\-]{0,31}", "a medium (a lower-case word: email, chat, voice, fax, sms)"},
      {"[A-Za-z_][A-Za-z0-9_]{0,127}", "an environment variable name"},
      {"1\\.[0-9]{1,3}", "a version 1 number (1.0)"},
      {"(100|[0-9]{1,2})", "a number from 0 to 100 (0.5)"},
      {"[+\\-]?[0-9]+", "a whole number"}};
  for (const auto& [key, meaning] : kTypes) {
    if (pattern.find(key) != std::string_view::npos) {
      return std::string(meaning);
    }
  }
  return std::nullopt;
}

// The values an enumerated attribute allows, as config.xsd lists them.
std::optional<std::string> enumeration(std::string_view attribute) {
  static constexpr std::pair<std::string_view, std::string_view> kValues[] = {
      {"level", "trace, debug, info, warning, error"},
      {"format", "json, text"},
      {"trace", "none, summary, full"},
      {"maxWaitOutcome", "abandon, fail, moveQueue"},
      {"ordering", "longestIdle, highestSkill, seniority, previousAgent, fewestContacts, "
                   "roundRobin, weightedRandom"},
      {"enabled", "true, false"}};
  for (const auto& [name, values] : kValues) {
    if (name == attribute) {
      return std::string(values);
    }
  }
  return std::nullopt;
}

// Xerces' wording, said the way the rest of the configuration errors say it.
std::string reworded(const std::string& reason) {
  if (reason.starts_with("missing required attribute '")) {
    return "is required";
  }
  if (reason.starts_with("attribute '") &&
      reason.find("is not declared for element") != std::string::npos) {
    std::string attribute = between(reason, "attribute '").value_or("");
    std::string element = between(reason, "element '").value_or("");
    return "<" + element + "> has no setting '" + attribute + "'";
  }
  if (auto element = between(reason, "no declaration found for element '")) {
    return "there is no element <" + *element + "> in a configuration";
  }
  if (reason.find("not in enumeration") != std::string::npos ||
      reason.find("invalid boolean") != std::string::npos) {
    return "'" + between(reason, "'").value_or("") + "' is not an allowed value";
  }
  if (auto limit = between(reason, "maxLength facet value '")) {
    std::string value = between(reason, "'").value_or("");
    bool list = value.find(' ') != std::string::npos;
    return "'" + value + "' is too long: at most " + *limit + (list ? " items" : " characters");
  }
  if (auto limit = between(reason, "maxInclusive facet value '")) {
    return "'" + between(reason, "'").value_or("") + "' is more than " + *limit;
  }
  if (auto limit = between(reason, "minInclusive facet value '")) {
    return "'" + between(reason, "'").value_or("") + "' is less than " + *limit;
  }
  return reason;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

class DocumentBuilder final : public DefaultHandler {
 public:
  DocumentBuilder(const SourceText& source, const std::filesystem::path& file)
      : source_(source), file_(file) {}

  ConfigElement& root() { return root_; }

  void setDocumentLocator(const Locator* locator) override { locator_ = locator; }

  void startElement(const XMLCh* uri, const XMLCh* localName, const XMLCh*,
                    const Attributes& attributes) override {
    std::size_t end = here();
    std::optional<RawTag> tag = tagBefore(source_.text(), end);
    if (stack_.size() >= kMaxDepth) {
      fail(tag ? source_.position(tag->offset) : position(), utf8(view(localName)),
           "elements are nested deeper than " + std::to_string(kMaxDepth));
    }
    ConfigElement* element = nullptr;
    if (stack_.empty()) {
      element = &root_;
    } else {
      element = &stack_.back()->children.emplace_back();
    }
    element->file = file_;
    element->name = utf8(view(localName));
    element->position = tag ? source_.position(tag->offset) : position();
    if (stack_.empty() && view(uri) != kNamespace) {
      fail(element->position, element->name, rootProblem());
    }
    for (XMLSize_t i = 0, n = attributes.getLength(); i < n; ++i) {
      if (!view(attributes.getURI(i)).empty()) {
        continue; // xsi:schemaLocation and the like: hints for editors, ignored here
      }
      ConfigAttribute& attribute = element->attributes.emplace_back();
      attribute.name = utf8(view(attributes.getLocalName(i)));
      attribute.value = utf8(view(attributes.getValue(i)));
      attribute.specified = false;
      attribute.position = element->position;
      if (tag) {
        for (const RawAttribute& raw : tag->attributes) {
          if (raw.name == attribute.name) {
            attribute.specified = true;
            attribute.position = source_.position(raw.offset);
          }
        }
      }
    }
    std::string_view text = source_.text();
    std::size_t first = end;
    while (first < text.size() && isSpace(text[first])) {
      ++first;
    }
    if (first < text.size() && text[first] != '<') {
      element->textPosition = source_.position(first);
    }
    stack_.push_back(element);
  }

  void endElement(const XMLCh*, const XMLCh*, const XMLCh*) override {
    ConfigElement* element = stack_.back();
    element->text = trim(element->text);
    if (element->text.empty()) {
      element->textPosition = {};
    }
    stack_.pop_back();
  }

  void characters(const XMLCh* chars, XMLSize_t length) override {
    if (!stack_.empty()) {
      xml::appendUtf8({chars, static_cast<std::size_t>(length)}, stack_.back()->text);
    }
  }

  void warning(const SAXParseException&) override {}
  void error(const SAXParseException& e) override { refuse(e); }
  void fatalError(const SAXParseException& e) override { refuse(e); }

  void startDTD(const XMLCh*, const XMLCh*, const XMLCh*) override {
    std::size_t at = source_.text().find("<!DOCTYPE");
    fail(at == std::string_view::npos ? position() : source_.position(at), "DOCTYPE",
         "a DOCTYPE is not allowed in a configuration");
  }

  void startEntity(const XMLCh* name) override {
    fail(position(), "ENTITY", "entity '" + utf8(view(name)) + "' is not allowed");
  }

  InputSource* resolveEntity(const XMLCh*, const XMLCh* systemId) override {
    fail(position(), "ENTITY",
         "the external resource '" + utf8(view(systemId)) + "' is never fetched");
  }

 private:
  SourcePosition position() const {
    if (locator_ == nullptr) {
      return {};
    }
    return {static_cast<std::size_t>(locator_->getLineNumber()),
            static_cast<std::size_t>(locator_->getColumnNumber())};
  }

  std::size_t here() const { return source_.offset(position()); }

  static std::string rootProblem() {
    return "the root element must be <switchboard xmlns=\"urn:switchboard:config:v1\">";
  }

  [[noreturn]] void fail(SourcePosition at, std::string setting, std::string reason) const {
    throw ConfigError(file_, at, std::move(setting), std::move(reason));
  }

  // Turns a Xerces complaint into an error that names the element or attribute it is about.
  [[noreturn]] void refuse(const SAXParseException& e) const {
    SourcePosition at{static_cast<std::size_t>(e.getLineNumber()),
                      static_cast<std::size_t>(e.getColumnNumber())};
    std::string reason = utf8(view(e.getMessage()));
    std::optional<RawTag> tag = tagBefore(source_.text(), source_.offset(at));
    if (!tag || tag->name.empty()) {
      fail(at, "document", std::move(reason));
    }
    for (const RawAttribute& attribute : tag->attributes) {
      if (isSecretAttribute(attribute.name) && !attribute.value.empty()) {
        replaceAll(reason, "'" + attribute.value + "'", "(a secret, not shown)");
      }
    }
    SourcePosition tagAt = source_.position(tag->offset);
    const std::string original = reason;
    std::optional<std::string> open = between(original, "end tag '");
    if (!open) {
      open = between(original, "end of tag '");
    }
    if (open) {
      if (!stack_.empty() && stack_.back()->name == *open) {
        fail(stack_.back()->position, *open, "<" + *open + "> is not closed (" + original + ")");
      }
    }
    reason = reworded(original);
    if (tag->end) {
      // Xerces checks an element's content at its end tag: point at the child it names, or else
      // at the element's start tag.
      const ConfigElement* closing = stack_.empty() ? nullptr : stack_.back();
      if (closing == nullptr || closing->name != tag->name) {
        fail(tagAt, tag->name, std::move(reason));
      }
      if (auto child = between(original, "element '")) {
        const ConfigElement* culprit = nullptr;
        int seen = 0;
        for (const ConfigElement& candidate : closing->children) {
          if (candidate.name == *child && seen++ < 2) {
            culprit = &candidate; // the second of two is the usual mistake
          }
        }
        if (culprit != nullptr) {
          fail(culprit->position, culprit->name, std::move(reason));
        }
      }
      fail(closing->position, closing->name, std::move(reason));
    }
    bool undeclared = original.find("grammar not found") != std::string::npos ||
                      original.find("no declaration found") != std::string::npos;
    if (stack_.empty() && undeclared) {
      fail(tagAt, tag->name, rootProblem() + " (" + original + ")");
    }
    if (!stack_.empty() && stack_.back()->name == "drivers" && undeclared) {
      std::vector<std::string> known = knownDriverTypes();
      if (std::find(known.begin(), known.end(), tag->name) == known.end()) {
        fail(tagAt, tag->name,
             "'" + tag->name + "' is not a driver type this server knows (known: " + joined(known) +
                 ")");
      }
    }
    const RawAttribute* culprit = nullptr;
    if (auto name = between(original, "attribute '")) {
      for (const RawAttribute& attribute : tag->attributes) {
        if (attribute.name == *name) {
          culprit = &attribute;
        }
      }
      if (culprit == nullptr) {
        fail(tagAt, tag->name + "@" + *name, std::move(reason));
      }
    } else if (auto value = between(original, "'")) {
      // The value the schema refused; in a list ("roundRobin fastest") it is one of the words.
      for (const RawAttribute& attribute : tag->attributes) {
        if (culprit == nullptr && attribute.value == *value) {
          culprit = &attribute;
        }
      }
      for (const RawAttribute& attribute : tag->attributes) {
        if (culprit == nullptr && !value->empty() &&
            (" " + attribute.value + " ").find(" " + *value + " ") != std::string::npos) {
          culprit = &attribute;
        }
      }
    }
    if (culprit == nullptr) {
      fail(tagAt, tag->name, std::move(reason));
    }
    if (auto pattern = between(original, "regular expression facet '")) {
      if (auto meaning = expected(*pattern)) {
        reason = "'" + culprit->value + "' is not " + *meaning;
      }
    }
    if (reason.ends_with(" is not an allowed value")) {
      if (auto allowed = enumeration(culprit->name)) {
        reason.resize(reason.size() - std::string_view(" an allowed value").size());
        reason += " one of " + *allowed;
      }
    }
    fail(source_.position(culprit->offset), tag->name + "@" + culprit->name, std::move(reason));
  }

  const SourceText& source_;
  const std::filesystem::path& file_;
  const Locator* locator_ = nullptr;
  ConfigElement root_;
  std::vector<ConfigElement*> stack_;
};

// Xerces keeps a count of Initialize() calls, which is not safe to change from two threads.
} // namespace

SourceText::SourceText(std::string_view text) : text_(text) {
  lineStarts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) {
      lineStarts_.push_back(i + 1);
    }
  }
}

std::size_t SourceText::offset(SourcePosition position) const {
  if (position.line == 0 || position.line > lineStarts_.size()) {
    return position.line == 0 ? 0 : text_.size();
  }
  std::size_t at = lineStarts_[position.line - 1];
  for (std::size_t column = 1; column < position.column && at < text_.size();) {
    char c = text_[at];
    if (c == '\n' || c == '\r') {
      break;
    }
    std::size_t length = sequenceLength(static_cast<unsigned char>(c));
    column += length == 4 ? 2 : 1;
    at = std::min(at + length, text_.size());
  }
  return at;
}

SourcePosition SourceText::position(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  auto next = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  std::size_t line = static_cast<std::size_t>(next - lineStarts_.begin());
  std::size_t column = 1;
  for (std::size_t at = lineStarts_[line - 1]; at < offset;) {
    std::size_t length = sequenceLength(static_cast<unsigned char>(text_[at]));
    column += length == 4 ? 2 : 1;
    at += length;
  }
  return {line, column};
}

SourcePosition positionInText(const SourceText& source, const ConfigElement& element,
                              std::size_t index) {
  if (element.textPosition.line == 0) {
    return element.position;
  }
  std::string_view text = source.text();
  std::size_t raw = source.offset(element.textPosition);
  for (std::size_t decoded = 0; decoded < index && raw < text.size();) {
    char c = text[raw];
    if (c == '<') {
      return element.textPosition; // a comment or CDATA section: give up on precision
    }
    if (c == '&') {
      auto [length, produced] = reference(text, raw);
      if (length == 0) {
        return element.textPosition;
      }
      raw += length;
      decoded += produced;
    } else if (c == '\r' && raw + 1 < text.size() && text[raw + 1] == '\n') {
      raw += 2;
      ++decoded;
    } else {
      ++raw;
      ++decoded;
    }
  }
  return source.position(raw);
}

ConfigElement parseConfigDocument(std::string_view document, const std::filesystem::path& file) {
  if (document.size() > kMaxConfigBytes) {
    throw ConfigError(file, {}, "",
                      "the file has " + std::to_string(document.size()) +
                          " bytes, more than the limit of " + std::to_string(kMaxConfigBytes));
  }
  SourceText source(document);
  xml::XercesRuntime runtime;
  std::unique_ptr<XMLGrammarPool> pool = loadConfigGrammar();
  SecurityManager security;
  std::unique_ptr<SAX2XMLReader> reader(
      XMLReaderFactory::createXMLReader(XMLPlatformUtils::fgMemoryManager, pool.get()));
  xml::harden(*reader, security);
  DocumentBuilder builder(source, file);
  reader->setContentHandler(&builder);
  reader->setErrorHandler(&builder);
  reader->setLexicalHandler(&builder);
  reader->setEntityResolver(&builder);
  MemBufInputSource input(reinterpret_cast<const XMLByte*>(document.data()), document.size(),
                          "configuration");
  try {
    reader->parse(input);
  } catch (const OutOfMemoryException&) {
    throw ConfigError(file, {}, "", "out of memory while parsing");
  } catch (const XMLException& e) {
    throw ConfigError(file, {static_cast<std::size_t>(e.getSrcLine()), 0}, "document",
                      utf8(view(e.getMessage())));
  }
  return std::move(builder.root());
}

} // namespace switchboard
