#pragma once

#include <xercesc/validators/datatype/DatatypeValidator.hpp>
#include <xercesc/validators/schema/SchemaGrammar.hpp>

#include <cstddef>

namespace switchboard {

/// What a warm-up reached: validators seen, pattern facets among them, character classes built,
/// complex types whose content model was built.
struct PatternWarmup {
  std::size_t complexTypes = 0;
  std::size_t validators = 0;
  std::size_t patterns = 0;
  std::size_t classes = 0;
};

/// Builds, ahead of any validation, the state that Xerces-C otherwise builds on first use and
/// without a lock: the character-class bitmaps of every compiled pattern facet. A RangeToken
/// publishes its bitmap pointer before filling it, so a second thread validating at that moment
/// sees an empty class and refuses a valid value ("value 'email' does not match regular
/// expression facet"); two threads building it at once abort the process on Debian's build
/// (`Assertion !fMap failed`). Validating a sample value does not reach them all: a class is only
/// built when a character is tested against it, which an empty or refused value never does.
///
/// Walks every datatype validator of `grammar` (named and anonymous simple types, the simple
/// content of complex types, element and attribute types, the built-ins they derive from) and,
/// for each, its base chain, list item type and union members. It also builds each complex type's
/// content model and its text form, which Xerces fills in on first use the same way. Not
/// thread-safe: call it while no other thread validates against the grammar or the built-in
/// types (callers serialise it).
PatternWarmup warmPatterns(xercesc::SchemaGrammar& grammar);

/// The same for one registry of validators, such as DatatypeValidatorFactory's built-ins.
PatternWarmup warmPatterns(xercesc::DVHashTable* validators);

} // namespace switchboard
