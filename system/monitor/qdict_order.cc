#include "system/monitor/qdict_order.h"

#include <cstdint>

namespace viommu::system::monitor {

unsigned qdict_bucket(std::string_view key)
{
    uint32_t length = 0;
    for (char c : key)
        length += c == '\0' ? 2 : 1;
    uint32_t value = 0x238F13AFu * length;
    uint32_t i = 0;
    const auto add = [&](unsigned char byte) { value += uint32_t{byte} << (i++ * 5 % 24); };
    for (char c : key) {
        if (c != '\0') {
            add(static_cast<unsigned char>(c));
        } else { // U+0000 is C0 80
            add(0xc0);
            add(0x80);
        }
    }
    return (1103515243u * value + 12345u) % 512;
}

} // namespace viommu::system::monitor
