# Writes OUTPUT, a C++ source defining `std::string_view switchboard::embedded::SYMBOL()` that
# returns the bytes of INPUT. Run by switchboard_embed() with cmake -P.
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REGEX REPLACE "(('\\\\x..',){16})" "\\1\n    " bytes "${bytes}")
file(WRITE ${OUTPUT}
"// Generated from ${INPUT} by cmake/embed_file.cmake. Do not edit.
#include <string_view>

namespace switchboard::embedded {
namespace {
constexpr char kBytes[${size} + 1] = {
    ${bytes}'\\0'};
} // namespace

std::string_view ${SYMBOL}() { return {kBytes, ${size}}; }
} // namespace switchboard::embedded
")
