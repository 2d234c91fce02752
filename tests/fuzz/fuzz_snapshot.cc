// fuzz-snapshot: virtio-iommu snapshot streams (hw/virtio-iommu/snapshot.h) restored into a fresh device.
// The input starts with a device configuration in fuzz-requests' encoding (decode_device(),
// tests/fuzz/scenario.h), since a stream restores only into a device of the properties it was taken
// of; the rest is the stream. It is restored as it is, and again with its payload length and CRC-32
// made right when they are not, so that mutations reach the payload parser instead of stopping at the
// checksum. What must hold for each:
//   - a refused stream leaves the device as it was (its own snapshot unchanged), with a reason;
//   - an accepted stream's device saves a stream (S1) that a second fresh device accepts, and that
//     device saves S1 again, byte for byte;
//   - the two devices then answer the same: attachment() of every endpoint the state names, and
//     translate() of each domain's mappings (first and last byte, read and write), of every endpoint
//     range's first endpoint and of every reserved region; after those accesses they still save alike.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/byte_stream.h"
#include "hw/virtio-iommu/snapshot.h"
#include "tests/fuzz/device_run.h"
#include "tests/fuzz/finding.h"
#include "tests/fuzz/scenario.h"

using namespace viommu;
using namespace viommu::fuzz;
using hw::virtio_iommu::Access;
using hw::virtio_iommu::EndpointId;
using hw::virtio_iommu::Snapshot;
using hw::virtio_iommu::VirtioIommu;

namespace {

constexpr std::size_t kHeader = 8 + 4 + 8; // "VIOMMUSS", version, payload length
constexpr std::size_t kCrc = 4;
// Enough to reach every domain of a seed; bounded so that a stream of many mappings stays fast.
constexpr std::size_t kMaxMappingsProbed = 8;
constexpr std::size_t kMaxProbes = 256;

// The stream with its payload length and CRC-32 what restore() checks them against.
std::vector<uint8_t> with_envelope_fixed(std::span<const uint8_t> stream)
{
    std::vector<uint8_t> s(stream.begin(), stream.end());
    const uint64_t payload = s.size() - kHeader - kCrc;
    for (int i = 0; i < 8; ++i)
        s[8 + 4 + i] = static_cast<uint8_t>(payload >> (8 * i));
    const uint32_t crc = crc32(std::span(s).first(s.size() - kCrc));
    for (int i = 0; i < 4; ++i)
        s[s.size() - kCrc + i] = static_cast<uint8_t>(crc >> (8 * i));
    return s;
}

struct Probe {
    EndpointId endpoint;
    Iova iova;
};

// The endpoints and addresses a restored state names, for comparing two devices' answers.
std::vector<Probe> probes_of(const VirtioIommu& device)
{
    std::vector<Probe> probes;
    const auto add = [&](EndpointId ep, Iova iova) {
        if (probes.size() < kMaxProbes)
            probes.push_back({ep, iova});
    };
    for (const hw::virtio_iommu::VirtioIommuDomain* d : device.domains().all()) {
        std::size_t n = 0;
        d->mappings.for_each([&](const hw::virtio_iommu::Mapping& m) {
            if (n++ >= kMaxMappingsProbed)
                return;
            add(d->endpoints.front(), m.iova.first);
            add(d->endpoints.back(), m.iova.last);
        });
        for (EndpointId ep : d->endpoints)
            add(ep, Iova(0));
    }
    for (const hw::virtio_iommu::EndpointRange& r : device.config().endpoints) {
        add(r.first, Iova(0));
        for (const hw::virtio_iommu::ReservedRegion& region : device.config().reserved)
            add(r.first, region.range.first);
    }
    return probes;
}

// What the device answers for each probe, one line each: its attachment, then a read and a write.
std::string answers(VirtioIommu& device, const std::vector<Probe>& probes)
{
    std::string out;
    for (const Probe& p : probes) {
        const auto a = device.attachment(p.endpoint);
        out += fmt::format("endpoint {} in {}{}:", p.endpoint, a ? fmt::format("domain {}", a->domain) : "none",
                           a && a->bypass ? " (bypass)" : "");
        for (const Access access : {Access::kRead, Access::kWrite}) {
            const auto t = device.translate(p.endpoint, p.iova, access);
            out += fmt::format(" {} {:#x} -> {}", access == Access::kRead ? "read" : "write", p.iova,
                               t.ok ? fmt::format("{:#x} ({:#x} bytes)", t.gpa, t.contiguous) : "fault");
        }
        out += "\n";
    }
    return out;
}

void check(const DeviceChoice& choice, std::span<const uint8_t> stream, const char* form)
{
    FreshDevice first(choice);
    const auto before = Snapshot::save(first.device);
    const auto restored = Snapshot::restore(first.device, stream);
    if (!restored) {
        if (restored.error().empty())
            finding(fmt::format("fuzz-snapshot: the {} stream ({} bytes) was refused without a reason", form,
                                stream.size()));
        if (Snapshot::save(first.device) != before)
            finding(fmt::format("fuzz-snapshot: the {} stream ({} bytes) was refused ({}), yet the device changed",
                                form, stream.size(), restored.error()));
        return;
    }
    const auto s1 = Snapshot::save(first.device);
    FreshDevice second(choice);
    if (auto ok = Snapshot::restore(second.device, s1); !ok)
        finding(fmt::format("fuzz-snapshot: the {} stream ({} bytes) was accepted, but its device's own snapshot "
                            "({} bytes) is refused by a fresh device: {}",
                            form, stream.size(), s1.size(), ok.error()));
    const auto s2 = Snapshot::save(second.device);
    if (s2 != s1)
        finding(fmt::format("fuzz-snapshot: the {} stream ({} bytes) was accepted, and its device's snapshot "
                            "({} bytes) restores into a device that saves {} bytes that differ",
                            form, stream.size(), s1.size(), s2.size()));
    const auto probes = probes_of(first.device);
    const std::string a = answers(first.device, probes), b = answers(second.device, probes);
    if (a != b)
        finding(fmt::format("fuzz-snapshot: the {} stream ({} bytes) was accepted; restored from it:\n{}"
                            "restored from its device's snapshot:\n{}",
                            form, stream.size(), a, b));
    if (Snapshot::save(first.device) != Snapshot::save(second.device))
        finding(fmt::format("fuzz-snapshot: the {} stream ({} bytes) was accepted; after the same accesses\n{}"
                            "the device restored from it and the one restored from its snapshot save differently",
                            form, stream.size(), a));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    fuzz::ByteReader reader({data, size});
    const DeviceChoice choice = decode_device(reader);
    const std::span<const uint8_t> stream(data + (size - reader.remaining()), reader.remaining());
    check(choice, stream, "given");
    if (stream.size() >= kHeader + kCrc) {
        const auto fixed = with_envelope_fixed(stream);
        if (!std::equal(fixed.begin(), fixed.end(), stream.begin()))
            check(choice, fixed, "envelope-fixed");
    }
    return 0;
}
