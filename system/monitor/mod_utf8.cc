#include "system/monitor/mod_utf8.h"

namespace viommu::system::monitor {

bool mod_utf8_valid(long cp)
{
    return cp >= 0 && cp <= 0x10ffff && !(cp >= 0xfdd0 && cp <= 0xfdef) && (cp & 0xfffe) != 0xfffe &&
           !(cp >= 0xd800 && cp <= 0xdfff);
}

int mod_utf8_codepoint(std::string_view s, std::size_t& used)
{
    const auto lead = static_cast<unsigned char>(s[0]);
    used = 1;
    if (lead < 0x80)
        return lead;
    if (lead >= 0xfe || (lead & 0x40) == 0)
        return -1;
    std::size_t len = 0;
    unsigned mask = 0x80;
    for (; lead & mask; mask >>= 1)
        ++len;
    long cp = lead & (mask - 1);
    for (; used < len; ++used) {
        if (used >= s.size() || (static_cast<unsigned char>(s[used]) & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (static_cast<unsigned char>(s[used]) & 0x3f);
    }
    static constexpr long kMinimum[] = {0x80, 0x800, 0x10000, 0x200000, 0x4000000};
    if (!mod_utf8_valid(cp) || (cp < kMinimum[len - 2] && !(cp == 0 && len == 2)))
        return -1;
    return static_cast<int>(cp);
}

void mod_utf8_append(std::string& out, unsigned cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | cp >> 6);
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | cp >> 12);
        out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | cp >> 18);
        out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
        out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

} // namespace viommu::system::monitor
