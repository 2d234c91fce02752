// What an IOMMU driver gives the IOMMU core (struct iommu_ops and struct iommu_domain_ops of
// include/linux/iommu.h), reduced to what the model exercises. Return values are Linux errnos.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace viommu::guest {

namespace driver_core {
class Device;
}

namespace iommu {

// IOMMU_DOMAIN_* (include/linux/iommu.h).
enum class DomainType { kBlocked, kIdentity, kUnmanaged, kDma, kDmaFq };
const char* domain_type_name(DomainType t); // as /sys/kernel/iommu_groups/N/type shows it

// enum iommu_cap.
enum class Cap { kCacheCoherency, kIntrRemap, kNoexec, kPreSetDmaReg, kEnforceCacheCoherency, kDeferredFlush, kDirtyTracking };
const char* cap_name(Cap c);

// IOMMU_READ / IOMMU_WRITE / IOMMU_CACHE / IOMMU_NOEXEC / IOMMU_MMIO.
namespace prot {
inline constexpr int kRead = 1 << 0;
inline constexpr int kWrite = 1 << 1;
inline constexpr int kCache = 1 << 2;
inline constexpr int kNoexec = 1 << 3;
inline constexpr int kMmio = 1 << 4;
} // namespace prot

// enum iommu_resv_type.
enum class ResvType { kDirect, kDirectRelaxable, kReserved, kMsi, kSwMsi };

struct ResvRegion {
    uint64_t start = 0;
    uint64_t length = 0;
    int prot = 0;
    ResvType type = ResvType::kReserved;
    uint64_t last() const { return start + length - 1; }
};

struct Geometry {
    uint64_t aperture_start = 0;
    uint64_t aperture_end = UINT64_MAX;
};

// A domain as the driver keeps it (struct iommu_domain plus the driver's own part).
class Domain {
public:
    explicit Domain(DomainType type) : type_(type) {}
    virtual ~Domain() = default;
    DomainType type() const { return type_; }
    void set_type(DomainType t) { type_ = t; } // DMA <-> DMA-FQ, as iommu_dma_init_fq() switches it

private:
    DomainType type_;
};

class IommuDriver {
public:
    virtual ~IommuDriver() = default;
    virtual const std::string& instance_name() const = 0; // the IOMMU device, for messages

    // probe_device(): 0, or an errno that leaves the device without an IOMMU.
    virtual int probe_device(driver_core::Device& dev, const std::vector<uint32_t>& ids) = 0;
    virtual void release_device(driver_core::Device& dev) = 0;
    virtual std::vector<ResvRegion> resv_regions(driver_core::Device& dev) = 0;
    virtual bool capable(driver_core::Device& dev, Cap cap) const = 0;
    virtual uint64_t pgsize_bitmap() const = 0;
    virtual Geometry geometry() const = 0;

    virtual std::unique_ptr<Domain> domain_alloc(DomainType type) = 0;
    virtual int attach_dev(Domain& domain, driver_core::Device& dev) = 0;
    // map_pages(): pgcount pages of pgsize; *mapped receives the bytes mapped.
    virtual int map_pages(Domain& domain, uint64_t iova, uint64_t paddr, uint64_t pgsize, uint64_t pgcount, int prot,
                          uint64_t& mapped) = 0;
    // unmap_pages(): the bytes unmapped (0 on failure).
    virtual uint64_t unmap_pages(Domain& domain, uint64_t iova, uint64_t pgsize, uint64_t pgcount) = 0;
    virtual void iotlb_sync_map(Domain& domain) = 0;
    virtual void iotlb_sync(Domain& domain) = 0;
    virtual void flush_iotlb_all(Domain& domain) = 0;
};

} // namespace iommu
} // namespace viommu::guest
