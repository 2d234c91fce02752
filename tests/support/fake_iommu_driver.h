// An IOMMU driver for tests of the IOMMU core: 4 KiB and 2 MiB pages, every map and unmap succeeds in
// full, and every attach_dev() is recorded (domain and device name, in order).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "guest-model/driver-core/device.h"
#include "guest-model/iommu/iommu_ops.h"

namespace viommu::test {

class FakeIommuDriver final : public guest::iommu::IommuDriver {
public:
    using Domain = guest::iommu::Domain;
    using Device = guest::driver_core::Device;

    const std::string& instance_name() const override { return name_; }
    int probe_device(Device&, const std::vector<uint32_t>&) override { return 0; }
    void release_device(Device&) override {}
    std::vector<guest::iommu::ResvRegion> resv_regions(Device&) override { return {}; }
    bool capable(Device&, guest::iommu::Cap) const override { return false; }
    uint64_t pgsize_bitmap() const override { return 0x1000 | 0x200000; }
    guest::iommu::Geometry geometry() const override { return {}; }
    std::unique_ptr<Domain> domain_alloc(guest::iommu::DomainType type) override
    {
        return std::make_unique<Domain>(type);
    }
    int attach_dev(Domain& domain, Device& dev) override
    {
        attaches.emplace_back(&domain, dev.name());
        return 0;
    }
    int map_pages(Domain&, uint64_t, uint64_t, uint64_t pgsize, uint64_t pgcount, int, uint64_t& mapped) override
    {
        mapped = pgsize * pgcount;
        return 0;
    }
    uint64_t unmap_pages(Domain&, uint64_t, uint64_t pgsize, uint64_t pgcount) override { return pgsize * pgcount; }
    void iotlb_sync_map(Domain&) override {}
    void iotlb_sync(Domain&) override {}
    void flush_iotlb_all(Domain&) override {}

    // How many times dev was attached.
    std::size_t attaches_of(const std::string& dev) const
    {
        std::size_t n = 0;
        for (const auto& a : attaches)
            n += a.second == dev;
        return n;
    }

    std::vector<std::pair<const Domain*, std::string>> attaches;

private:
    std::string name_ = "fake-iommu";
};

} // namespace viommu::test
