#include "mime_html.h"
#include "mail_text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>
#include <vector>

namespace switchboard::email {
namespace {

using text::appendCodePoint;
using text::lowerAscii;

struct Entity {
  std::string_view name;
  std::uint32_t codePoint;
};

// The named entities that mail programs write; others are kept as written.
constexpr std::array<Entity, 74> kEntities{{
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},      {"apos", '\''},
    {"nbsp", 0xA0},    {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122},  {"euro", 0x20AC},
    {"pound", 0xA3},   {"yen", 0xA5},     {"cent", 0xA2},    {"sect", 0xA7},     {"deg", 0xB0},
    {"para", 0xB6},    {"middot", 0xB7},  {"bull", 0x2022},  {"hellip", 0x2026}, {"ndash", 0x2013},
    {"mdash", 0x2014}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},  {"rdquo", 0x201D},
    {"laquo", 0xAB},   {"raquo", 0xBB},   {"times", 0xD7},   {"divide", 0xF7},   {"ordf", 0xAA},
    {"ordm", 0xBA},    {"iexcl", 0xA1},   {"iquest", 0xBF},  {"shy", 0xAD},      {"zwnj", 0x200C},
    {"zwj", 0x200D},   {"Agrave", 0xC0},  {"Aacute", 0xC1},  {"Acirc", 0xC2},    {"Atilde", 0xC3},
    {"Auml", 0xC4},    {"Ccedil", 0xC7},  {"Egrave", 0xC8},  {"Eacute", 0xC9},   {"Ecirc", 0xCA},
    {"Iacute", 0xCD},  {"Ntilde", 0xD1},  {"Oacute", 0xD3},  {"Ocirc", 0xD4},    {"Otilde", 0xD5},
    {"Ouml", 0xD6},    {"Uacute", 0xDA},  {"Uuml", 0xDC},    {"szlig", 0xDF},    {"agrave", 0xE0},
    {"aacute", 0xE1},  {"acirc", 0xE2},   {"atilde", 0xE3},  {"auml", 0xE4},     {"ccedil", 0xE7},
    {"egrave", 0xE8},  {"eacute", 0xE9},  {"ecirc", 0xEA},   {"iacute", 0xED},   {"ntilde", 0xF1},
    {"oacute", 0xF3},  {"ocirc", 0xF4},   {"otilde", 0xF5},  {"ouml", 0xF6},     {"uacute", 0xFA},
    {"uuml", 0xFC},    {"ucirc", 0xFB},   {"icirc", 0xEE},   {"ugrave", 0xF9},
}};

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

char lowerChar(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Decodes the entities in `text`.
std::string decodeEntities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    if (text[at] != '&') {
      out += text[at++];
      continue;
    }
    std::size_t end = text.find(';', at);
    if (end == std::string_view::npos || end - at > 12) {
      out += text[at++];
      continue;
    }
    std::string_view name = text.substr(at + 1, end - at - 1);
    bool done = false;
    if (name.size() > 1 && name[0] == '#') {
      bool hex = name[1] == 'x' || name[1] == 'X';
      std::string_view digits = name.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      bool valid = !digits.empty() && digits.size() <= 7;
      for (char c : digits) {
        int digit = -1;
        if (c >= '0' && c <= '9') {
          digit = c - '0';
        } else if (hex && lowerChar(c) >= 'a' && lowerChar(c) <= 'f') {
          digit = lowerChar(c) - 'a' + 10;
        }
        if (digit < 0) {
          valid = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(digit);
      }
      if (valid) {
        appendCodePoint(out, cp);
        done = true;
      }
    } else {
      for (const Entity& entity : kEntities) {
        if (entity.name == name) {
          appendCodePoint(out, entity.codePoint);
          done = true;
          break;
        }
      }
    }
    if (done) {
      at = end + 1;
    } else {
      out += text[at++];
    }
  }
  return out;
}

struct Tag {
  std::string name; ///< lower case, without '/'
  bool closing = false;
  std::string_view attributes;
};

Tag parseTag(std::string_view inside) {
  Tag tag;
  std::size_t at = 0;
  if (at < inside.size() && inside[at] == '/') {
    tag.closing = true;
    ++at;
  }
  std::size_t start = at;
  while (at < inside.size() && !isSpace(inside[at]) && inside[at] != '/' && inside[at] != '>') {
    ++at;
  }
  tag.name = lowerAscii(inside.substr(start, at - start));
  tag.attributes = inside.substr(at);
  return tag;
}

// The value of attribute `name` in a tag's attribute text, entities decoded.
std::string attribute(std::string_view attributes, std::string_view name) {
  std::string lower = lowerAscii(attributes);
  for (std::size_t at = lower.find(name); at != std::string::npos; at = lower.find(name, at + 1)) {
    if (at > 0 && !isSpace(lower[at - 1])) {
      continue;
    }
    std::size_t eq = at + name.size();
    while (eq < lower.size() && isSpace(lower[eq])) {
      ++eq;
    }
    if (eq >= lower.size() || lower[eq] != '=') {
      continue;
    }
    std::size_t value = eq + 1;
    while (value < lower.size() && isSpace(lower[value])) {
      ++value;
    }
    if (value >= lower.size()) {
      return {};
    }
    char quote = attributes[value];
    std::size_t end = 0;
    if (quote == '"' || quote == '\'') {
      ++value;
      end = attributes.find(quote, value);
      if (end == std::string_view::npos) {
        end = attributes.size();
      }
    } else {
      end = value;
      while (end < attributes.size() && !isSpace(attributes[end]) && attributes[end] != '>') {
        ++end;
      }
    }
    return decodeEntities(attributes.substr(value, end - value));
  }
  return {};
}

bool oneOf(const std::string& name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

class Renderer {
 public:
  std::string render(std::string_view html) {
    for (std::size_t at = 0; at < html.size();) {
      if (html[at] != '<') {
        std::size_t next = html.find('<', at);
        if (next == std::string_view::npos) {
          next = html.size();
        }
        text(html.substr(at, next - at));
        at = next;
        continue;
      }
      if (html.substr(at, 4) == "<!--") {
        std::size_t end = html.find("-->", at + 4);
        at = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      if (html.substr(at, 2) == "<!" || html.substr(at, 2) == "<?") {
        std::size_t end = html.find('>', at);
        at = end == std::string_view::npos ? html.size() : end + 1;
        continue;
      }
      // A '<' that starts no tag ("a < b") is text.
      if (at + 1 >= html.size() ||
          !(std::isalpha(static_cast<unsigned char>(html[at + 1])) || html[at + 1] == '/')) {
        text(html.substr(at, 1));
        ++at;
        continue;
      }
      std::size_t end = tagEnd(html, at + 1);
      Tag tag = parseTag(html.substr(at + 1, end - at - 1));
      at = end < html.size() ? end + 1 : end;
      if (!tag.closing && oneOf(tag.name, {"script", "style", "head", "title", "template"})) {
        // Their content is never text the customer wrote.
        std::size_t found = findClosing(html, at, tag.name);
        if (found == std::string_view::npos) {
          break;
        }
        std::size_t closeEnd = html.find('>', found);
        at = closeEnd == std::string_view::npos ? html.size() : closeEnd + 1;
        continue;
      }
      element(tag);
    }
    return finish();
  }

 private:
  // Where "</name" starts at or after `from`, in any case; npos when it never comes.
  static std::size_t findClosing(std::string_view html, std::size_t from, const std::string& name) {
    for (std::size_t at = html.find("</", from); at != std::string_view::npos;
         at = html.find("</", at + 2)) {
      std::string_view candidate = html.substr(at + 2, name.size());
      if (candidate.size() == name.size() &&
          std::equal(candidate.begin(), candidate.end(), name.begin(),
                     [](char a, char b) { return lowerChar(a) == b; })) {
        return at;
      }
    }
    return std::string_view::npos;
  }

  static std::size_t tagEnd(std::string_view html, std::size_t from) {
    char quote = 0;
    for (std::size_t at = from; at < html.size(); ++at) {
      char c = html[at];
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        return at;
      }
    }
    return html.size();
  }

  void text(std::string_view raw) {
    std::string decoded = decodeEntities(raw);
    if (pre_ > 0) {
      for (char c : decoded) {
        if (c == '\n') {
          newline();
        } else if (c != '\r') {
          put(c);
        }
      }
      return;
    }
    for (char c : decoded) {
      if (isSpace(c)) {
        pendingSpace_ = true;
      } else {
        if (pendingSpace_ && !atLineStart()) {
          put(' ');
        }
        pendingSpace_ = false;
        put(c);
      }
    }
    if (link_) {
      linkText_ += decoded;
    }
  }

  void element(const Tag& tag) {
    const std::string& n = tag.name;
    if (n == "br") {
      newline();
    } else if (oneOf(n, {"p",       "div",     "h1",      "h2",         "h3",     "h4",
                         "h5",      "h6",      "table",   "blockquote", "ul",     "ol",
                         "dl",      "section", "article", "header",     "footer", "form",
                         "address", "center",  "hr",      "pre"})) {
      if (n == "pre") {
        pre_ += tag.closing ? (pre_ > 0 ? -1 : 0) : 1;
      }
      if (n == "ul" || n == "ol") {
        if (tag.closing) {
          if (!lists_.empty()) {
            lists_.pop_back();
          }
        } else {
          lists_.push_back({n == "ol", 0});
        }
      }
      bool paragraph = oneOf(n, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"});
      blockBreak(paragraph && lists_.empty());
      if (n == "hr") {
        out_ += "----";
        blockBreak(false);
      }
    } else if (oneOf(n, {"tr", "dt", "dd", "li"})) {
      blockBreak(false);
      if (n == "li" && !tag.closing) {
        std::string indent(lists_.size() > 1 ? 2 * (lists_.size() - 1) : 0, ' ');
        if (!lists_.empty() && lists_.back().ordered) {
          out_ += indent + std::to_string(++lists_.back().count) + ". ";
        } else {
          out_ += indent + "- ";
        }
        pendingSpace_ = false;
      }
    } else if (n == "td" || n == "th") {
      if (!tag.closing && !atLineStart()) {
        out_ += '\t';
        pendingSpace_ = false;
      }
    } else if (n == "a") {
      if (!tag.closing) {
        href_ = attribute(tag.attributes, "href");
        link_ = !href_.empty();
        linkText_.clear();
      } else if (link_) {
        link_ = false;
        std::string shown = href_.starts_with("mailto:") ? href_.substr(7) : href_;
        auto trimmed = linkText_;
        trimmed.erase(std::remove_if(trimmed.begin(), trimmed.end(), isSpace), trimmed.end());
        std::string plainShown = shown;
        if (trimmed != plainShown && !href_.starts_with("#") && !href_.starts_with("javascript:")) {
          out_ += " (" + shown + ")";
        }
      }
    } else if (n == "img" && !tag.closing) {
      std::string alt = attribute(tag.attributes, "alt");
      if (!alt.empty()) {
        if (pendingSpace_ && !atLineStart()) {
          put(' ');
        }
        pendingSpace_ = false;
        out_ += "[" + alt + "]";
      }
    }
  }

  bool atLineStart() const { return out_.empty() || out_.back() == '\n'; }

  void put(char c) { out_ += c; }

  void newline() {
    trimLineEnd();
    out_ += '\n';
    pendingSpace_ = false;
  }

  // Ends the current line; a paragraph also leaves one blank line (never more than one).
  void blockBreak(bool paragraph) {
    trimLineEnd();
    pendingSpace_ = false;
    if (out_.empty()) {
      return;
    }
    if (out_.back() != '\n') {
      out_ += '\n';
    }
    if (paragraph && !(out_.size() >= 2 && out_[out_.size() - 2] == '\n')) {
      out_ += '\n';
    }
  }

  void trimLineEnd() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) {
      out_.pop_back();
    }
  }

  std::string finish() {
    // Non-breaking spaces read as spaces in the agent's view.
    std::string result;
    result.reserve(out_.size());
    for (std::size_t at = 0; at < out_.size(); ++at) {
      if (out_.compare(at, 2, "\xC2\xA0") == 0) {
        result += ' ';
        ++at;
      } else {
        result += out_[at];
      }
    }
    // Lines that are only spaces collapse; at most one blank line in a row.
    std::string clean;
    std::size_t blank = 0;
    std::size_t start = 0;
    while (start <= result.size()) {
      std::size_t end = result.find('\n', start);
      if (end == std::string::npos) {
        end = result.size();
      }
      std::string line = result.substr(start, end - start);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        line.pop_back();
      }
      if (line.empty()) {
        ++blank;
      } else {
        if (!clean.empty()) {
          clean += blank > 0 ? "\n\n" : "\n";
        }
        clean += line;
        blank = 0;
      }
      start = end + 1;
    }
    return clean;
  }

  struct List {
    bool ordered = false;
    int count = 0;
  };

  std::string out_;
  bool pendingSpace_ = false;
  int pre_ = 0;
  std::vector<List> lists_;
  bool link_ = false;
  std::string href_;
  std::string linkText_;
};

} // namespace

std::string htmlToText(std::string_view html) {
  return Renderer().render(html);
}

} // namespace switchboard::email
