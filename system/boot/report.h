// What a boot found out: per PCI function, the driver bound, the IOMMU group and domain, the endpoint
// IDs Linux and QEMU use for it, how often its probe deferred, what its DMA did, and its VFIO verdict;
// for the guest, the kernel log and the virtio-iommu's state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "guest-model/vfio/user_path.h"
#include "system/boot/guest_spec.h"
#include "guest-model/vfio/verdict.h"
#include "system/workload/report.h"

namespace viommu::system::boot {

// Where an endpoint's DMA went, as the device saw it.
enum class DmaResult {
    kNotRun,     // no driver made it do DMA
    kTranslated, // through a mapping of its IOMMU domain, to the right bytes
    kIdentity,   // attached to a bypass (identity) domain
    kBypassed,   // its endpoint ID is attached to no domain and the IOMMU lets such DMA through
    kDirect,     // not behind the IOMMU at all (a virtio device without iommu_platform)
    kFault,      // the IOMMU refused it and reported a fault
    kCorrupt,    // it completed but the bytes did not land where the driver looked
};
const char* dma_result_name(DmaResult r);

struct DmaOutcome {
    DmaResult result = DmaResult::kNotRun;
    std::string detail; // "IOVA 0xfffff000 -> 0x1d64000", "fault at 0x1eac000 (endpoint 0x58)", ...
    std::string reason; // a fault's reason as the device reported it: "UNKNOWN", "DOMAIN", "MAPPING"
};

struct DeviceReport {
    std::string bdf;    // "0000:01:01.0"
    std::string parent; // the bridge whose secondary bus it sits on ("" on the root bus)
    std::string label;  // what it is ("virtio-net", "hostdev 0000:65:00.0", "pcie-root-port")
    std::string role;   // boot::role_name()
    std::string driver; // the driver bound at the end of the boot ("" none)
    std::optional<int> group;
    std::string domain; // the group's domain type ("DMA-FQ", "identity", ...; "" without a group)
    // /sys/kernel/iommu_groups/N/reserved_regions: "0x00000000fee00000 0x00000000feefffff msi".
    std::vector<std::string> reserved_regions;
    std::vector<uint32_t> linux_ids; // what the firmware gives Linux: own requester ID, then DMA aliases
    uint32_t qemu_endpoint = 0;      // the endpoint ID QEMU's virtio-iommu sees on its DMA
    bool behind_iommu = false;       // the firmware puts it behind the virtio-iommu
    unsigned deferrals = 0;          // probes that deferred (-EPROBE_DEFER) waiting for the IOMMU
    std::string no_group_reason;     // why it has no IOMMU group although it is behind the IOMMU
    DmaOutcome dma;
    // The firmware's DMA from its boot disk before Linux runs, when it faulted (boot-bypass off).
    std::optional<DmaOutcome> firmware_dma;
    std::optional<guest::vfio::Verdict> vfio;
};

struct IommuReport {
    bool present = false;       // the machine has a virtio-iommu
    bool driver_built = false;  // the kernel can drive it (CONFIG_VIRTIO_IOMMU, firmware description)
    bool driver_ready = false;  // viommu_probe() succeeded
    std::string device;         // "virtio0"
    std::string bdf;
    uint64_t features = 0;      // negotiated
    uint64_t requests = 0;      // requests the device handled
    uint64_t faults = 0;        // fault events it reported
    std::string why_not;        // why no IOMMU serves the guest, when it does not
    std::string device_profile; // whose answers the device gave (DeviceBehaviour::profile): "spec", "qemu-7.2"
    bool boot_bypass = true;    // unattached endpoints bypass until the driver takes over (QEMU's boot-bypass)
};

struct GuestReport {
    std::string guest;          // the domain name
    std::string kernel;         // the profile's name
    std::string kernel_version;
    Arch arch = Arch::kX86_64;
    FirmwareTables tables = FirmwareTables::kAcpi; // what describes the hardware (and the virtio-iommu) to Linux
    guest::vfio::Backend vfio_user = guest::vfio::Backend::kType1Container; // how the user drove VFIO
    IommuReport iommu;
    std::vector<DeviceReport> devices; // in bus order
    std::vector<std::string> warnings; // what the description holds that the model does not reproduce
    std::string dmesg;                 // the kernel log, dmesg-style
    std::optional<workload::Report> workload; // what --workload's I/O pattern cost, when one was asked for

    // 0: every device the user wants in VFIO was admitted; 1: one was not.
    int exit_code() const;
};

// The exit status of a guest that is not modelled (GuestSpec::not_modelled): no verdict, neither 0 nor 1.
inline constexpr int kNotModelledExitCode = 3;

} // namespace viommu::system::boot
