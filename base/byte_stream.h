// Little-endian byte streams for snapshots: a writer that appends, and a reader that never reads past
// its end and says where a stream ran short.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace viommu {

class ByteWriter {
public:
    void u8(uint8_t v) { buf_.push_back(v); }
    void u16(uint16_t v) { put(v, 2); }
    void u32(uint32_t v) { put(v, 4); }
    void u64(uint64_t v) { put(v, 8); }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void bytes(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
    void str(const std::string& s)
    {
        u32(static_cast<uint32_t>(s.size()));
        bytes(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    }
    void reserve(std::size_t bytes) { buf_.reserve(bytes); }
    std::vector<uint8_t>& buffer() { return buf_; }

private:
    // One resize per field, not one push_back per byte: a snapshot of a million mappings is 28 MB.
    void put(uint64_t v, int n)
    {
        const std::size_t at = buf_.size();
        buf_.resize(at + static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i)
            buf_[at + static_cast<std::size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
    }
    std::vector<uint8_t> buf_;
};

class ByteReader {
public:
    explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

    std::optional<uint8_t> u8() { return get(1); }
    std::optional<uint16_t> u16() { return get(2); }
    std::optional<uint32_t> u32() { return get(4); }
    std::optional<uint64_t> u64() { return get(8); }
    std::optional<bool> boolean()
    {
        const auto v = u8();
        if (!v || *v > 1)
            return std::nullopt;
        return *v == 1;
    }
    std::optional<std::span<const uint8_t>> bytes(std::size_t n)
    {
        if (n > data_.size() - pos_)
            return std::nullopt;
        auto out = data_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    std::optional<std::string> str(std::size_t max)
    {
        const auto n = u32();
        if (!n || *n > max)
            return std::nullopt;
        const auto b = bytes(*n);
        if (!b)
            return std::nullopt;
        return std::string(b->begin(), b->end());
    }
    std::size_t position() const { return pos_; }
    std::size_t remaining() const { return data_.size() - pos_; }

private:
    std::optional<uint64_t> get(int n)
    {
        if (static_cast<std::size_t>(n) > data_.size() - pos_)
            return std::nullopt;
        uint64_t v = 0;
        for (int i = 0; i < n; ++i)
            v |= uint64_t{data_[pos_ + i]} << (8 * i);
        pos_ += n;
        return v;
    }
    std::span<const uint8_t> data_;
    std::size_t pos_ = 0;
};

// CRC-32 (IEEE 802.3, the polynomial of zlib and gzip) over a byte range.
uint32_t crc32(std::span<const uint8_t> data);

} // namespace viommu
