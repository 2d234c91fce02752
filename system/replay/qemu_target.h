// QEMU's virtio-iommu-pci as a replay target: Debian's qemu-system-x86_64 (a q35 machine, CPUs stopped,
// the qtest protocol) with a virtio-iommu-pci whose properties are the replay's device options, and a
// PCI device at every endpoint the script names that the options say exists, so that QEMU's device
// finds it (QEMU's virtio-iommu knows an endpoint only once a PCI device on a bus it translates asks
// for its address space: virtio_iommu_find_add_as(), hw/virtio/virtio-iommu.c). Our own virtio-pci
// driver and request client drive it, exactly as they drive our device.
//
// What QEMU 7.2 cannot be told is refused before it starts (a device option QEMU has no property for,
// an endpoint that cannot be placed on q35's root bus), never approximated. Endpoint DMA is not
// compared: the endpoints are inert test devices whose DMA a script cannot start, so `dma` steps come
// back "not comparable".
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/expected.h"
#include "system/replay/target.h"

namespace viommu::system::qemu {
class QemuProcess;
}

namespace viommu::system::replay {

struct QemuTargetError {
    enum class Kind {
        kNotExpressible, // the options or the script ask for something QEMU cannot be given
        kQemuFailed,     // QEMU could not be started or did not answer (message carries its stderr)
    } kind;
    std::string message;
};

// Every endpoint ID a script's steps name (attach, detach, probe, dma, and raw ATTACH, DETACH and
// PROBE requests long enough to carry one).
std::set<uint32_t> endpoints_named(const std::vector<Step>& steps);

// The -device arguments for a device configuration and the endpoints a script names: the
// virtio-iommu-pci first (an endpoint realized before it would not be translated), then one
// pci-testdev per endpoint. Refuses what QEMU 7.2's virtio-iommu-pci on q35 cannot be given.
[[nodiscard]] Expected<std::vector<std::string>, std::string>
qemu_devices(const hw::virtio_iommu::IommuConfig& config, const std::set<uint32_t>& named, uint8_t& iommu_devfn);

class QemuTarget final : public Target {
public:
    // binary: a path or a name looked up on PATH; extra_args go to QEMU as they are (e.g. -trace).
    static Expected<std::unique_ptr<QemuTarget>, QemuTargetError>
    start(const std::string& binary, const hw::virtio_iommu::IommuConfig& config, const std::set<uint32_t>& named,
          std::vector<std::string> extra_args = {});
    ~QemuTarget() override;

    guest::virtio_iommu::IommuRequestClient& client() override;
    DmaResult dma(const DmaOp& op) override;
    // QEMU's output so far and how it ended, for an error message.
    std::string diagnostics();
    // Why the qtest stream failed, if it did.
    std::optional<std::string> failure();
    // The QEMU process itself: its qtest traffic and its pid, for measuring what a request costs there.
    qemu::QemuProcess& process();

private:
    struct Parts;
    explicit QemuTarget(std::unique_ptr<Parts> parts);
    std::unique_ptr<Parts> parts_;
};

} // namespace viommu::system::replay
