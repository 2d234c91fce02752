// The hardware of a synthetic guest, as QEMU's machine init builds it from a GuestSpec: the PCI
// functions and their bridges (bus numbers assigned as firmware does), the virtio-iommu with one
// endpoint per requester ID QEMU uses, and a DMA engine behind every function that does DMA.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "guest-model/driver-core/device.h"
#include "guest-model/pci/topology.h"
#include "hw/endpoints/dma_engine.h"
#include "base/expected.h"
#include "hw/virtio-iommu/device.h"
#include "system/boot/guest_spec.h"
#include "system/boot/report.h"
#include "system/machine/machine.h"

namespace viommu::system::boot {

// One PCI function: the hardware behind it, and what the guest made of it.
struct Function {
    const FunctionDesc* desc = nullptr;
    guest::pci::Function* pci = nullptr;
    std::unique_ptr<IrqWire> irq;
    std::unique_ptr<hw::endpoints::DmaEngine> engine; // nullptr: the model does no DMA for it

    guest::driver_core::Device* dev = nullptr;       // the guest's struct pci_dev
    std::set<std::string> id_table;     // drivers whose ID table matches it
    std::string driver_override;        // /sys/bus/pci/devices/*/driver_override
    unsigned deferrals = 0;
    guest::driver_core::Device* virtio = nullptr;    // the virtio device virtio-pci registered for it
    DmaOutcome dma;
    std::optional<DmaOutcome> firmware_dma; // the firmware's DMA, when it faulted
};

class Board {
public:
    // Throws std::invalid_argument for an inconsistent spec (see boot_guest()).
    Board(const GuestSpec& spec, machine::Machine& machine, const hw::virtio_iommu::DeviceBehaviour& device = {});
    Board(const Board&) = delete;
    Board& operator=(const Board&) = delete;

    // In the order they were added (boot-time ones in spec order, then hot-plugged ones); a list, so that
    // a function can come and go while pointers to the others stay valid.
    std::list<Function>& functions() { return functions_; }
    const std::list<Function>& functions() const { return functions_; }
    hw::virtio_iommu::VirtioIommu* iommu() const { return iommu_; }
    Function* iommu_function() const { return iommu_fn_; }

    // What the virtio-iommu noted of the hostdevs' host IOMMUs at machine init and at each hot_add (QEMU's
    // warnings, what its release does not take), one sentence each, for the report's warnings.
    const std::vector<std::string>& host_iommu_notes() const { return host_iommu_notes_; }

    // The admission check of a device added once the machine runs (QMP device_add of a vfio-pci
    // hostdev): its host IOMMU's constraints at the requester ID QEMU's virtio-iommu sees for it. Either
    // they are applied (its host reserved regions join its PROBE; the notes say what QEMU would warn
    // about) or the device is refused with QEMU's reason (a page-size mask the frozen granule does not
    // fit), and device_add must fail with it. Without a virtio-iommu nothing is checked. hot_add() runs
    // it for a function whose description carries a host IOMMU.
    [[nodiscard]] Expected<std::vector<std::string>, std::string>
    admit_hotplugged_hostdev(uint32_t requester_id, const hw::virtio_iommu::HostIommuConstraints& host);

    // The driver has programmed f's engine to write len bytes (pattern seed) at iova; the device does,
    // and the bytes are looked for at phys. "" when they landed, else what went wrong; out says where
    // the DMA went either way.
    std::string device_dma(Function& f, uint64_t iova, uint64_t phys, uint64_t len, uint32_t seed,
                           DmaOutcome& out);

    // The firmware has queued a request for f (its boot disk) and f reads it from guest RAM: physical
    // addresses, no IOMMU driver. The outcome when it faulted, nothing when it went through.
    std::optional<DmaOutcome> firmware_dma(Function& f);

    // f's device reads len bytes at iova, a buffer its driver mapped for it: the address that faulted,
    // if one did. An engine that only receives (a NIC's, DmaEngine::Kind::kNetRx) reads nothing.
    std::optional<uint64_t> device_read(Function& f, uint64_t iova, uint64_t len)
    {
        return run_engine(f, iova, len, 0, hw::endpoints::DmaEngine::kCmdRead);
    }
    // Hot-plug: a PCI function into the empty slot of a PCIe root port (QEMU's device_add). The one
    // entry every hot-plugged function goes through, so that host-side admission checks have one place;
    // the error says, as QEMU would, why the port does not take it, or why the virtio-iommu does not
    // take the host IOMMU behind it (admit_hotplugged_hostdev()); a refused function leaves no trace.
    Expected<Function*, std::string> hot_add(const FunctionDesc& desc, Function& port);
    // Hot-unplug, once the guest has let go of f (QEMU unrealizes the function when the guest powers
    // the slot off).
    void hot_remove(Function& f);

private:
    // Programs f's engine for one transfer (DmaEngine::kCmdWrite or kCmdRead) and runs the machine until
    // it is done: the faulting address when the IOMMU refused it.
    std::optional<uint64_t> run_engine(Function& f, uint64_t iova, uint64_t len, uint32_t seed, uint32_t command);
    // out, for a DMA of f's that faulted at address: where, and the reason the IOMMU reported.
    DmaOutcome fault_outcome(const Function& f, uint64_t address, std::string_view what) const;
    void add_functions();
    void add_iommu(const hw::virtio_iommu::DeviceBehaviour& device);
    void add_dma_engine(Function& f);
    // Keeps what the virtio-iommu noted on taking a function's host IOMMU, each note under the
    // function's host address, for the report.
    void keep_host_iommu_notes(const FunctionDesc& d, const std::vector<std::string>& notes);

    const GuestSpec& spec_;
    machine::Machine& machine_;
    guest::pci::Topology topology_;
    std::list<Function> functions_;
    std::list<FunctionDesc> hotplugged_; // the descriptions of hot-plugged functions (the spec's are spec_'s)
    hw::virtio_iommu::VirtioIommu* iommu_ = nullptr;
    Function* iommu_fn_ = nullptr;
    std::vector<std::string> host_iommu_notes_;
};

} // namespace viommu::system::boot
