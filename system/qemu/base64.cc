#include "system/qemu/base64.h"

namespace viommu::system::qemu {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c)
{
    const auto at = kAlphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

} // namespace

std::string base64_encode(std::span<const uint8_t> bytes)
{
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        uint32_t group = uint32_t{bytes[i]} << 16;
        if (n > 1)
            group |= uint32_t{bytes[i + 1]} << 8;
        if (n > 2)
            group |= bytes[i + 2];
        for (std::size_t k = 0; k < 4; ++k)
            out += k <= n ? kAlphabet[(group >> (18 - 6 * k)) & 0x3f] : '=';
    }
    return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text)
{
    if (text.size() % 4 != 0)
        return std::nullopt;
    std::vector<uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const std::size_t padding = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
        if (padding == 1 && text[i + 2] == '=')
            return std::nullopt; // "x=y=" style: '=' before a data character
        uint32_t group = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const int v = k < 4 - padding ? sextet(text[i + k]) : 0;
            if (v < 0)
                return std::nullopt;
            group = group << 6 | static_cast<uint32_t>(v);
        }
        const std::size_t n = 3 - padding;
        if (padding > 0 && (group & ((1u << (8 * padding)) - 1)) != 0)
            return std::nullopt; // non-zero bits past the last byte: not how glib encodes
        for (std::size_t k = 0; k < n; ++k)
            out.push_back(static_cast<uint8_t>(group >> (16 - 8 * k)));
    }
    return out;
}

} // namespace viommu::system::qemu
