#pragma once

// A readable plain-text rendering of an HTML mail, for the agent's view and for routing rules
// that look at the text: paragraphs and line breaks kept, lists as "- " lines, links as
// "text (address)", entities decoded, and nothing of <script>, <style> or <head>.

#include <string>
#include <string_view>

namespace switchboard::email {

/// Renders `html` (UTF-8) as text (UTF-8, LF line ends, no trailing blank lines). Tolerates any
/// input: unclosed tags, stray '<', unknown entities are kept as written.
std::string htmlToText(std::string_view html);

} // namespace switchboard::email
