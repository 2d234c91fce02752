// QEMU's modified UTF-8 (util/unicode.c): UTF-8 in which U+0000 is C0 80, so that a C string can hold
// it. The monitor's strings are std::string and hold U+0000 as a NUL byte; these read and write them
// by QEMU's rules, which the parser (json-parser.c) and the writer (json-writer.c) both follow.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace viommu::system::monitor {

// mod_utf8_codepoint(): the code point of the sequence at the start of s (not empty), or -1 for an
// invalid one; used is set to the bytes it spans (for an invalid one, the lead byte and the
// continuation bytes present). Invalid: a stray continuation byte, 0xFE/0xFF, a short sequence,
// anything beyond U+10FFFF, a surrogate, one of Unicode's 66 noncharacters, an overlong form other
// than C0 80. A NUL byte is U+0000.
int mod_utf8_codepoint(std::string_view s, std::size_t& used);

// mod_utf8_encode()'s is_valid_codepoint(): not negative, not beyond U+10FFFF, not a surrogate, not a
// noncharacter. U+0000 is valid.
bool mod_utf8_valid(long cp);

// Appends a valid code point as UTF-8, U+0000 as a NUL byte.
void mod_utf8_append(std::string& out, unsigned cp);

} // namespace viommu::system::monitor
