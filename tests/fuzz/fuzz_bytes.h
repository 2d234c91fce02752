// Reading a fuzzer's input as a stream of numbers, and writing one (seeds, regression inputs).
//
// Like clang's FuzzedDataProvider, but small enough to read in a minute and buildable by g++ (the
// replay shim runs every corpus under g++ too). Every read succeeds: past the end of the input it
// returns zeroes, so a truncated input is still a valid input, and a mutation never makes the
// decoder fail. Numbers are little-endian, so a ByteWriter's output reads back field for field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace viommu::fuzz {

class ByteReader {
public:
    explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

    bool empty() const { return at_ >= data_.size(); }
    std::size_t remaining() const { return empty() ? 0 : data_.size() - at_; }

    uint8_t u8() { return empty() ? 0 : data_[at_++]; }
    uint16_t u16() { return static_cast<uint16_t>(little(2)); }
    uint32_t u32() { return static_cast<uint32_t>(little(4)); }
    uint64_t u64() { return little(8); }
    // Up to n bytes: fewer when the input ends first.
    std::vector<uint8_t> bytes(std::size_t n)
    {
        const std::size_t take = n < remaining() ? n : remaining();
        std::vector<uint8_t> out(data_.begin() + static_cast<std::ptrdiff_t>(at_),
                                 data_.begin() + static_cast<std::ptrdiff_t>(at_ + take));
        at_ += take;
        return out;
    }

private:
    uint64_t little(unsigned n)
    {
        uint64_t v = 0;
        for (unsigned i = 0; i < n; ++i)
            v |= uint64_t{u8()} << (8 * i);
        return v;
    }

    std::span<const uint8_t> data_;
    std::size_t at_ = 0;
};

class ByteWriter {
public:
    void u8(uint8_t v) { out_.push_back(v); }
    void u16(uint16_t v) { little(v, 2); }
    void u32(uint32_t v) { little(v, 4); }
    void u64(uint64_t v) { little(v, 8); }
    void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    const std::vector<uint8_t>& data() const { return out_; }

private:
    void little(uint64_t v, unsigned n)
    {
        for (unsigned i = 0; i < n; ++i)
            out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }

    std::vector<uint8_t> out_;
};

} // namespace viommu::fuzz
