#pragma once

// How each type of message.h is laid out in XML: which members are attributes, which are child
// elements, in the order of the schema. The encoder and the decoder both walk these tables, so
// the mapping between the schema and the C++ types is written once (message_layout.cpp).
//
// Objects are passed as void* because one table serves many types; each table's functions cast
// back to the type the table describes.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::layout {

enum class FieldKind {
  Attribute, ///< an attribute holding a scalar member
  Text,      ///< a child element whose text is a scalar member: <subject>...</subject>
  Content,   ///< the element's own text: <attribute name="tier">gold</attribute>
  Child,     ///< a child element holding a struct member, optional or not
  List,      ///< repeated child elements holding a std::vector of structs
  Choice,    ///< exactly one of several child elements, holding a std::variant member
};

struct TypeLayout;

/// One alternative of a Choice: the element name and how to make and read that alternative.
struct Alternative {
  std::string_view name;
  std::u16string wideName;
  const TypeLayout& (*layout)();
  void* (*emplace)(void* variant);
  const void* (*get)(const void* variant);
};

struct FieldLayout {
  FieldKind kind = FieldKind::Attribute;
  std::string_view name; ///< empty for Content
  std::u16string wideName;

  // Attribute, Text, Content.
  bool (*parse)(void* object, std::string_view text) = nullptr;   ///< false: not a valid value
  bool (*format)(const void* object, std::string& out) = nullptr; ///< appends; false when absent

  // Child, List.
  const TypeLayout& (*nested)() = nullptr;
  void* (*emplace)(void* object) = nullptr; ///< the child object to fill (appended for a List)
  std::size_t (*count)(const void* object) = nullptr; ///< Child: 0 or 1
  const void* (*at)(const void* object, std::size_t index) = nullptr;

  // Choice.
  std::vector<Alternative> alternatives; ///< in the order of the variant's alternatives
  void* (*variant)(void* object) = nullptr;
  const void* (*constVariant)(const void* object) = nullptr;
  std::size_t (*index)(const void* variant) = nullptr;
};

/// A rule the schema cannot state; returns the reason when `object` breaks it, else empty.
using RuleCheck = std::string (*)(const void* object);

struct TypeLayout {
  explicit TypeLayout(std::vector<FieldLayout> fieldList, RuleCheck ruleCheck = nullptr);

  std::vector<FieldLayout> fields; ///< attributes first, then children in schema order
  const FieldLayout* content = nullptr;
  bool hasChildren = false;  ///< any Text, Child, List or Choice field
  RuleCheck check = nullptr; ///< run by the decoder at the element's end tag

  /// The attribute field named `name`, or null.
  const FieldLayout* attribute(std::u16string_view name) const;
  /// The Text, Child, List or Choice field whose element (or one of whose alternatives) is
  /// named `name`, or null.
  const FieldLayout* element(std::u16string_view name) const;
};

/// The layout of switchboard::Message, the document's root element <message>.
const TypeLayout& messageLayout();

} // namespace switchboard::layout
