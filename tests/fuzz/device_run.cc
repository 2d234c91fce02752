#include "tests/fuzz/device_run.h"

#include <fmt/format.h>

#include "tests/fuzz/finding.h"

namespace viommu::fuzz {

namespace {

// Small RAM: a scenario needs rings, request buffers and event buffers, and a fresh machine per input.
system::machine::MachineConfig machine_config()
{
    system::machine::MachineConfig m;
    m.ram_size = 8ull << 20;
    return m;
}

} // namespace

hw::virtio_iommu::IommuConfig iommu_config(const DeviceChoice& d)
{
    hw::virtio_iommu::IommuConfig c;
    c.endpoints.clear();
    for (const EndpointRange& r : d.endpoints)
        c.endpoints.push_back({hw::virtio_iommu::EndpointId(r.first), hw::virtio_iommu::EndpointId(r.last)});
    c.page_size_mask = ~((uint64_t{1} << d.granule_log2) - 1);
    c.input_start = 0;
    c.input_end = d.aw_bits == 64 ? UINT64_MAX : (uint64_t{1} << d.aw_bits) - 1;
    c.domain_start = d.domain_first;
    c.domain_end = d.domain_last;
    c.boot_bypass = d.boot_bypass;
    c.legacy_bypass = d.legacy_bypass;
    c.probe_size = d.probe_size;
    for (const ReservedChoice& r : d.reserved) {
        hw::virtio_iommu::ReservedRegion region{{}, {Iova(r.start), Iova(r.end)}, r.msi ? hw::virtio_iommu::ResvMemSubtype::kMsi : hw::virtio_iommu::ResvMemSubtype::kReserved};
        for (std::size_t i = 0; i < c.endpoints.size(); ++i)
            if ((r.endpoint_mask >> i) & 1)
                region.endpoints.push_back(c.endpoints[i]);
        c.reserved.push_back(region);
    }
    c.withheld = d.withheld;
    c.limits = {d.max_domains, d.max_mappings, d.max_endpoints};
    return c;
}

FreshDevice::FreshDevice(const DeviceChoice& choice)
    : machine(machine_config()), device(machine.add_device<hw::virtio_iommu::VirtioIommu>(iommu_config(choice)))
{
}

DeviceRun::DeviceRun(const DeviceChoice& choice)
    : choice_(choice), machine_(machine_config()),
      device_(machine_.add_device<hw::virtio_iommu::VirtioIommu>(iommu_config(choice))), client_(machine_.handle(0))
{
    bring_up();
}

void DeviceRun::bring_up()
{
    guest::virtio_iommu::IommuRequestClient::Options o;
    o.accept = ~choice_.declined;
    o.event_buffers = choice_.event_buffers;
    if (auto ok = client_.bring_up(o); !ok)
        finding("the driver could not bring the device up: " + ok.error());
}

Observation DeviceRun::apply(const Action& action)
{
    Observation o;
    if (const auto* send = std::get_if<SendAction>(&action)) {
        client_.set_segment_size(send->segment);
        auto replies = client_.send_batch(send->requests, send->writable);
        o.replies.reserve(send->requests.size());
        for (std::size_t i = 0; i < send->requests.size(); ++i) {
            if (!replies)
                o.replies.push_back({});
            else
                o.replies.push_back({true, (*replies)[i].used_len, std::move((*replies)[i].written)});
        }
    } else if (const auto* dma = std::get_if<DmaAction>(&action)) {
        const hw::virtio_iommu::Access access = dma->write ? hw::virtio_iommu::Access::kWrite : hw::virtio_iommu::Access::kRead;
        uint64_t done = 0;
        while (done < dma->len) {
            const auto t = device_.translate(hw::virtio_iommu::EndpointId(dma->endpoint), Iova(dma->iova + done), access);
            Translated seen{t.ok, t.ok ? t.gpa : 0, t.ok ? t.contiguous : 0, {}};
            for (const guest::virtio_iommu::FaultEvent& f : client_.take_faults())
                seen.faults.push_back(
                    {static_cast<uint8_t>(f.reason), f.flags, f.endpoint, f.address, f.reserved_zero()});
            o.translated.push_back(seen);
            if (!t.ok || t.contiguous >= dma->len - done)
                break;
            done += t.contiguous;
        }
    } else if (const auto* bypass = std::get_if<BypassAction>(&action)) {
        client_.write_bypass(bypass->value);
        machine_.run();
    } else {
        bring_up();
    }
    o.needs_reset = client_.driver().status() & virtio::status::kNeedsReset;
    return o;
}

} // namespace viommu::fuzz
