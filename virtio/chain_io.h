// Sequential access to the two parts of a descriptor chain: ChainReader consumes the device-readable
// part, ChainWriter fills the device-writable part. Both stop at the end of their part; neither can
// reach past a segment.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

#include "virtio/descriptor_chain.h"

namespace viommu::virtio {

class ChainReader {
public:
    explicit ChainReader(const DescriptorChain& chain) : segs_(chain.readable()), remaining_(chain.readable_bytes()) {}

    uint64_t remaining() const { return remaining_; }

    // Copies out.size() bytes; false, consuming nothing, when fewer remain.
    [[nodiscard]] bool read(std::span<uint8_t> out);
    [[nodiscard]] bool skip(uint64_t n);

    template <class T>
    [[nodiscard]] std::optional<T> read_obj()
    {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        if (!read(std::span(reinterpret_cast<uint8_t*>(&value), sizeof(T))))
            return std::nullopt;
        return value;
    }

private:
    std::span<const Segment> segs_;
    std::size_t seg_ = 0;
    uint32_t offset_ = 0; // into segs_[seg_]
    uint64_t remaining_;
};

class ChainWriter {
public:
    explicit ChainWriter(const DescriptorChain& chain) : segs_(chain.writable()), remaining_(chain.writable_bytes()) {}

    uint64_t remaining() const { return remaining_; }
    // Bytes written so far: what push_used() reports as the used length.
    uint64_t written() const { return written_; }

    // Writes in.size() bytes; false, writing nothing, when less room remains.
    [[nodiscard]] bool write(std::span<const uint8_t> in);
    [[nodiscard]] bool fill(uint8_t byte, uint64_t n);

    template <class T>
    [[nodiscard]] bool write_obj(const T& value)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
    }

private:
    template <class Fn>
    bool advance(uint64_t n, Fn&& fn);

    std::span<const Segment> segs_;
    std::size_t seg_ = 0;
    uint32_t offset_ = 0;
    uint64_t remaining_;
    uint64_t written_ = 0;
};

} // namespace viommu::virtio
