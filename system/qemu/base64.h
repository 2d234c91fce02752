// Base64 (RFC 4648 §4, with padding), as glib's g_base64_encode() writes it and qtest's b64read and
// b64write carry bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace viommu::system::qemu {

std::string base64_encode(std::span<const uint8_t> bytes);
// The bytes of text, or nullopt unless text is canonical padded base64: length a multiple of 4, only
// the alphabet, '=' only as the last one or two characters, and unused bits zero.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

} // namespace viommu::system::qemu
