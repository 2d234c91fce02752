#include "system/replay/script.h"

#include <fmt/format.h>
#include <linux/virtio_iommu.h>

#include "base/checked.h"
#include "base/parse.h"

namespace viommu::system::replay {

namespace {

std::vector<std::string_view> words(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            ++i;
        if (i > start)
            out.push_back(line.substr(start, i - start));
    }
    return out;
}

// Parses one line's arguments; failures are plain messages, the caller adds the line number.
class Args {
public:
    Args(std::string_view word, std::vector<std::string_view> args) : word_(word), args_(std::move(args)) {}

    Expected<void, std::string> count(std::size_t min, std::size_t max, std::string_view usage) const
    {
        if (args_.size() < min || args_.size() > max)
            return unexpected(fmt::format("'{}' takes {}", word_, usage));
        return {};
    }
    std::size_t size() const { return args_.size(); }
    std::string_view operator[](std::size_t i) const { return args_[i]; }

    Expected<uint64_t, std::string> number(std::size_t i, std::string_view what, uint64_t max = UINT64_MAX) const
    {
        auto v = parse_u64(args_[i], max);
        if (!v)
            return unexpected(fmt::format("bad {}: {}", what, v.error()));
        return *v;
    }

private:
    std::string_view word_;
    std::vector<std::string_view> args_;
};

#define TRY_ASSIGN(var, expr)                      \
    auto var##_result = (expr);                    \
    if (!var##_result)                             \
        return unexpected(var##_result.error());   \
    const auto var = *var##_result

Expected<uint32_t, std::string> map_flags(std::string_view text)
{
    if (text == "-")
        return 0u;
    uint32_t flags = 0;
    for (char c : text) {
        const uint32_t bit = c == 'r' ? VIRTIO_IOMMU_MAP_F_READ
                             : c == 'w' ? VIRTIO_IOMMU_MAP_F_WRITE
                             : c == 'm' ? VIRTIO_IOMMU_MAP_F_MMIO
                                        : 0;
        if (!bit || (flags & bit))
            return unexpected(fmt::format("bad flags '{}': use any of r, w, m once each, or - for none", text));
        flags |= bit;
    }
    return flags;
}

Expected<std::vector<uint8_t>, std::string> hex_bytes(std::string_view text)
{
    if (text.size() % 2 != 0)
        return unexpected(fmt::format("bad hex '{}': an odd number of digits", text));
    std::vector<uint8_t> out;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        auto v = parse_u64(fmt::format("0x{}", text.substr(i, 2)), 0xff);
        if (!v)
            return unexpected(fmt::format("bad hex '{}': '{}' is not a hex byte", text, text.substr(i, 2)));
        out.push_back(static_cast<uint8_t>(*v));
    }
    return out;
}

Expected<Op, std::string> parse_op(std::string_view word, const Args& a)
{
    constexpr uint64_t k32 = UINT32_MAX;
    if (word == "attach") {
        if (auto ok = a.count(2, 3, "DOMAIN ENDPOINT [bypass]"); !ok)
            return unexpected(ok.error());
        TRY_ASSIGN(domain, a.number(0, "domain", k32));
        TRY_ASSIGN(endpoint, a.number(1, "endpoint", k32));
        if (a.size() == 3 && a[2] != "bypass")
            return unexpected(fmt::format("'attach' takes 'bypass' as its third word, not '{}'", a[2]));
        return Op(AttachOp{static_cast<uint32_t>(domain), static_cast<uint32_t>(endpoint), a.size() == 3});
    }
    if (word == "detach") {
        if (auto ok = a.count(2, 2, "DOMAIN ENDPOINT"); !ok)
            return unexpected(ok.error());
        TRY_ASSIGN(domain, a.number(0, "domain", k32));
        TRY_ASSIGN(endpoint, a.number(1, "endpoint", k32));
        return Op(DetachOp{static_cast<uint32_t>(domain), static_cast<uint32_t>(endpoint)});
    }
    if (word == "map") {
        if (auto ok = a.count(5, 5, "DOMAIN VIRT_START VIRT_END PHYS_START FLAGS"); !ok)
            return unexpected(ok.error());
        TRY_ASSIGN(domain, a.number(0, "domain", k32));
        TRY_ASSIGN(start, a.number(1, "virt_start"));
        TRY_ASSIGN(end, a.number(2, "virt_end"));
        TRY_ASSIGN(phys, a.number(3, "phys_start"));
        TRY_ASSIGN(flags, map_flags(a[4]));
        return Op(MapOp{static_cast<uint32_t>(domain), start, end, phys, flags});
    }
    if (word == "unmap") {
        if (auto ok = a.count(3, 3, "DOMAIN VIRT_START VIRT_END"); !ok)
            return unexpected(ok.error());
        TRY_ASSIGN(domain, a.number(0, "domain", k32));
        TRY_ASSIGN(start, a.number(1, "virt_start"));
        TRY_ASSIGN(end, a.number(2, "virt_end"));
        return Op(UnmapOp{static_cast<uint32_t>(domain), start, end});
    }
    if (word == "probe") {
        if (auto ok = a.count(1, 1, "ENDPOINT"); !ok)
            return unexpected(ok.error());
        TRY_ASSIGN(endpoint, a.number(0, "endpoint", k32));
        return Op(ProbeOp{static_cast<uint32_t>(endpoint)});
    }
    if (word == "raw") {
        if (auto ok = a.count(1, 2, "HEX [in=N]"); !ok)
            return unexpected(ok.error());
        TRY_ASSIGN(bytes, hex_bytes(a[0]));
        uint64_t in = 4;
        if (a.size() == 2) {
            if (a[1].substr(0, 3) != "in=")
                return unexpected(fmt::format("'raw' takes in=N as its second word, not '{}'", a[1]));
            auto n = parse_u64(a[1].substr(3), 1u << 20);
            if (!n)
                return unexpected(fmt::format("bad in=N: {}", n.error()));
            in = *n;
        }
        if (bytes.empty() && in == 0)
            return unexpected(std::string("'raw' needs at least one byte in either part"));
        return Op(RawOp{bytes, static_cast<uint32_t>(in)});
    }
    if (word == "dma") {
        if (auto ok = a.count(3, 4, "ENDPOINT ADDR r|w [LEN]"); !ok)
            return unexpected(ok.error());
        TRY_ASSIGN(endpoint, a.number(0, "endpoint", k32));
        TRY_ASSIGN(addr, a.number(1, "address"));
        if (a[2] != "r" && a[2] != "w")
            return unexpected(fmt::format("'dma' takes r or w, not '{}'", a[2]));
        uint64_t len = 1;
        if (a.size() == 4) {
            TRY_ASSIGN(n, a.number(3, "length"));
            if (n == 0)
                return unexpected(std::string("bad length: a DMA access is at least one byte"));
            if (!last_byte(addr, n))
                return unexpected(fmt::format("bad length: {:#x} bytes from {:#x} wrap past 2^64", n, addr));
            len = n;
        }
        return Op(DmaOp{static_cast<uint32_t>(endpoint), addr, a[2] == "w", len});
    }
    if (word == "bypass") {
        if (auto ok = a.count(1, 1, "0 or 1"); !ok)
            return unexpected(ok.error());
        if (a[0] != "0" && a[0] != "1")
            return unexpected(fmt::format("'bypass' takes 0 or 1, not '{}'", a[0]));
        return Op(BypassOp{static_cast<uint8_t>(a[0] == "1")});
    }
    if (word == "reset") {
        if (auto ok = a.count(0, 0, "no arguments"); !ok)
            return unexpected(ok.error());
        return Op(ResetOp{});
    }
    return unexpected(fmt::format("unknown word '{}'", word));
}

} // namespace

std::string_view op_name(const Op& op)
{
    static constexpr std::string_view kNames[] = {"attach", "detach", "map", "unmap", "probe",
                                                  "raw",    "dma",    "bypass", "reset"};
    return kNames[op.index()];
}

Expected<std::vector<Step>, ScriptError> parse_script(std::string_view text)
{
    std::vector<Step> steps;
    std::size_t line_no = 0;
    std::size_t from = 0;
    while (from <= text.size()) {
        const std::size_t nl = text.find('\n', from);
        std::string_view line = text.substr(from, nl == std::string_view::npos ? std::string_view::npos : nl - from);
        ++line_no;
        from = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        if (const auto hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        auto w = words(line);
        if (w.empty())
            continue;
        const std::string_view word = w.front();
        w.erase(w.begin());
        auto op = parse_op(word, Args(word, std::move(w)));
        if (!op)
            return unexpected(ScriptError{line_no, op.error()});
        steps.push_back({line_no, std::move(*op)});
    }
    return steps;
}

} // namespace viommu::system::replay
