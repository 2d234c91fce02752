#include "system/replay/departures.h"

namespace viommu::system::replay {

namespace {

using hw::virtio_iommu::DeviceBehaviour;

struct Member {
    std::string_view row;
    bool (*differs)(const DeviceBehaviour&, const DeviceBehaviour&);
    void (*take)(DeviceBehaviour&, const DeviceBehaviour&);
};

template <auto M>
constexpr Member member(std::string_view row)
{
    return {row, [](const DeviceBehaviour& a, const DeviceBehaviour& b) { return a.*M != b.*M; },
            [](DeviceBehaviour& a, const DeviceBehaviour& b) { a.*M = b.*M; }};
}

// One entry per departure member of DeviceBehaviour (tests/unit/system/replay/departures_test.cc checks
// that applying them all turns each profile into the other).
constexpr Member kMembers[] = {
    member<&DeviceBehaviour::give_up_without_head_or_tail>(
        "5.13.6: a request whose head or tail cannot be found (QEMU: virtio_error, NEEDS_RESET)"),
    member<&DeviceBehaviour::unsupp_for_unknown_type>("5.13.6.2: an unknown request type (QEMU writes UNSUPP)"),
    member<&DeviceBehaviour::requests_ignore_negotiation>(
        "5.13.6.5: MAP_F_MMIO and other requests of features not negotiated (QEMU accepts them)"),
    member<&DeviceBehaviour::attach_checks_reserved>("5.13.6.3: ATTACH reserved field (QEMU does not check it)"),
    member<&DeviceBehaviour::attach_detaches_first>(
        "5.13.6.3: ATTACH detaches first (QEMU: a rejected ATTACH has detached, an ATTACH to the current domain "
        "recreates it)"),
    member<&DeviceBehaviour::endpoint_state>(
        "5.13.6.4/5.13.6.9: an endpoint never attached (QEMU: DETACH answers NOENT, a fault has reason UNKNOWN)"),
    member<&DeviceBehaviour::map_refuses_inverted_range>("5.13.6.5: MAP with virt_end below virt_start (QEMU inserts it)"),
    member<&DeviceBehaviour::map_checks_alignment>("5.13.6.5: MAP not aligned to the granule (QEMU does not check)"),
    member<&DeviceBehaviour::map_checks_phys_wrap>(
        "5.13.6.5: MAP whose physical range wraps past 2^64 (QEMU does not check)"),
    member<&DeviceBehaviour::map_checks_reserved_regions>(
        "5.13.6.8.1.2: MAP over a reserved region (QEMU does not check)"),
    member<&DeviceBehaviour::unmap_checks_split_first>(
        "5.13.6.6: UNMAP that would split a mapping (QEMU removes earlier mappings first)"),
    member<&DeviceBehaviour::unmap_refuses_inverted_range>(
        "5.13.6.6: UNMAP with virt_end below virt_start (QEMU looks the range up)"),
    member<&DeviceBehaviour::short_probe_buffer>(
        "5.13.6.7: PROBE buffer smaller than probe_size (QEMU 7.2 aborts on it, 9.1 answers DEVERR)"),
    member<&DeviceBehaviour::frozen_granule_check>(
        "5.13.4: page_size_mask of a device plugged once the granule is frozen (QEMU 7.2 wants the same granule)"),
    member<&DeviceBehaviour::takes_host_iova_ranges>(
        "5.13.6.8.1: RESV_MEM of an assigned device's host reserved regions (QEMU 7.2 learns none)"),
};

} // namespace

std::vector<Departure> departures(const DeviceBehaviour& ours, const DeviceBehaviour& peer)
{
    std::vector<Departure> out;
    for (const Member& m : kMembers)
        if (m.differs(ours, peer)) {
            Departure d{m.row, ours};
            m.take(d.behaviour, peer);
            out.push_back(d);
        }
    return out;
}

DeviceBehaviour with_all_departures(const DeviceBehaviour& ours, const DeviceBehaviour& peer)
{
    DeviceBehaviour b = ours;
    for (const Member& m : kMembers)
        m.take(b, peer);
    return b;
}

} // namespace viommu::system::replay
