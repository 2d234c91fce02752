#include "virtio/chain_io.h"

#include <algorithm>

namespace viommu::virtio {

namespace {

// Walks n bytes across segments starting at (seg, offset), calling fn(host, len, done) per piece.
// The caller has checked that n bytes remain.
template <class Fn>
void walk_segments(std::span<const Segment> segs, std::size_t& seg, uint32_t& offset, uint64_t n, Fn&& fn)
{
    uint64_t done = 0;
    while (done < n) {
        const Segment& s = segs[seg];
        const uint64_t take = std::min<uint64_t>(n - done, s.len - offset);
        fn(s.host + offset, take, done);
        done += take;
        offset += static_cast<uint32_t>(take);
        if (offset == s.len) {
            ++seg;
            offset = 0;
        }
    }
}

} // namespace

bool ChainReader::read(std::span<uint8_t> out)
{
    if (out.size() > remaining_)
        return false;
    walk_segments(segs_, seg_, offset_, out.size(),
                  [&](const uint8_t* host, uint64_t n, uint64_t done) { std::memcpy(out.data() + done, host, n); });
    remaining_ -= out.size();
    return true;
}

bool ChainReader::skip(uint64_t n)
{
    if (n > remaining_)
        return false;
    walk_segments(segs_, seg_, offset_, n, [](const uint8_t*, uint64_t, uint64_t) {});
    remaining_ -= n;
    return true;
}

template <class Fn>
bool ChainWriter::advance(uint64_t n, Fn&& fn)
{
    if (n > remaining_)
        return false;
    walk_segments(segs_, seg_, offset_, n, fn);
    remaining_ -= n;
    written_ += n;
    return true;
}

bool ChainWriter::write(std::span<const uint8_t> in)
{
    return advance(in.size(), [&](uint8_t* host, uint64_t n, uint64_t done) { std::memcpy(host, in.data() + done, n); });
}

bool ChainWriter::fill(uint8_t byte, uint64_t n)
{
    return advance(n, [&](uint8_t* host, uint64_t len, uint64_t) { std::memset(host, byte, len); });
}

} // namespace viommu::virtio
