// The guest's virtio-pci driver for modern (virtio 1.0) functions, modelled on Linux's
// drivers/virtio/virtio_pci_common.c, virtio_pci_modern.c and virtio_pci_modern_dev.c: vp_modern_probe()
// finds and checks the virtio capabilities, the common configuration carries status, features and
// queue setup, notifications go to the notify structure at queue_notify_off * notify_off_multiplier,
// and interrupts come as MSI-X vectors or, without them, on INTx through the ISR status
// (vp_find_vqs()).
//
// It sees the function only through base/pci_function.h (configuration space, memory space at the
// BARs' addresses, INTx, the platform's MSI domain) and guest memory. The BARs are sized and read
// as the PCI core does (__pci_read_base()); their addresses are firmware's.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/bus.h"
#include "base/expected.h"
#include "base/pci_function.h"
#include "guest-model/virtio-drivers/edge_irq.h"
#include "guest-model/virtio-drivers/transport.h"

namespace viommu::guest::profiles {
class Profile;
}

namespace viommu::guest::virtio_drivers {

// What the PCI core hands virtio_pci_probe(): the function, guest RAM with the kernel's page
// allocator, the executor interrupts are taken on, and the CPU's wait.
struct PciDeviceHandle {
    PciFunction& function;
    virtio::GuestMemory& memory;
    mm::PhysAllocator& allocator;
    boost::asio::io_context::executor_type executor;
    WaitForEvent& cpu;
};

// What differs between the releases of virtio_pci, resolved once from the kernel profile (each switch
// is a behaviour of the facts table; from() is in pci_behaviour.cc).
struct VirtioPciBehaviour {
    // vp_transport_features() accepts VIRTIO_F_RING_RESET when the device offers it (04ca0b0b16f1,
    // v6.0). virtio-mmio never does.
    bool ring_reset = true;
    // The ring code's own switches (virtio_ring.c), which virtio_pci goes through.
    VirtioRingBehaviour ring;

    static VirtioPciBehaviour from(const profiles::Profile& profile);
};

// How the queues' interrupts were set up (vp_find_vqs()).
enum class VirtioPciIrqMode {
    kNone,       // no queues yet
    kMsixPerVq,  // one MSI-X vector for configuration changes, one per queue with a callback
    kMsixShared, // one for configuration changes, one shared by every queue
    kIntx,       // the INTx line, the ISR status telling why
};

class VirtioPciModernDriver final : public VirtioTransport {
public:
    VirtioPciModernDriver(const PciDeviceHandle& device, VirtioPciBehaviour behaviour);
    ~VirtioPciModernDriver() override;

    std::string_view name() const override { return "virtio-pci"; }
    // virtio_pci_probe(): pci_enable_device(), vp_modern_probe() (device ID range, the capabilities and
    // their mapping), pci_set_master(). The error reads like Linux's.
    [[nodiscard]] Expected<void, std::string> probe() override;
    uint32_t device_id() override { return device_id_; }

    // vp_reset(): 0 to device_status, then wait until it reads 0; the queues and vectors go with it.
    void reset() override;
    uint8_t status() override;

    // vp_modern_get_features(): both 32-bit words through device_feature_select.
    virtio::FeatureBits device_features() override;
    // vp_finalize_features(): the transport's own features (vp_transport_features()), VERSION_1
    // required, both words through driver_feature_select; then virtio_features_ok().
    [[nodiscard]] Expected<void, std::string> finalize_features(virtio::FeatureBits features) override;

    // vp_modern_find_vqs(): vp_find_vqs() (MSI-X per queue, MSI-X shared, INTx), then every queue
    // enabled, last.
    [[nodiscard]] Expected<void, std::string> find_vqs(std::span<const VqRequest> queues) override;
    // vp_notify(): the queue's index, 16 bits, at its notification address.
    void notify(unsigned index) override;

    void config_write(uint32_t offset, unsigned size, uint64_t value) override;

    VirtioPciIrqMode irq_mode() const { return irq_mode_; }

    // vp_interrupt(): reading the ISR status acknowledges it; bit 0 queues, bit 1 configuration.
    void interrupt();

private:
    struct Bar {
        uint64_t address = 0;
        uint64_t length = 0; // 0: not implemented
        bool memory = false;
    };
    // A mapped capability: where its structure starts in memory space, and how much of it is mapped.
    struct Window {
        uint64_t base = 0;
        uint64_t length = 0;
    };

    void set_status(uint8_t status) override;
    uint32_t config_generation() override;
    uint64_t device_config_read(uint32_t offset, unsigned size) override;

    void read_bars();
    uint8_t find_capability(uint8_t cap_id, uint8_t start = 0);
    uint8_t find_virtio_capability(uint8_t cfg_type);
    Expected<Window, std::string> map_capability(uint8_t cap, uint64_t minlen, uint32_t align, uint32_t start,
                                                 uint64_t size);
    Expected<void, std::string> map_capabilities(uint8_t common, uint8_t isr, uint8_t notify, uint8_t device);

    uint64_t common_read(uint32_t offset, unsigned size);
    void common_write(uint32_t offset, unsigned size, uint64_t value);
    uint64_t window_read(const Window& w, uint64_t offset, unsigned size);
    void window_write(const Window& w, uint64_t offset, unsigned size, uint64_t value);

    Expected<void, std::string> try_find_vqs(std::span<const VqRequest> queues, VirtioPciIrqMode mode);
    Expected<void, std::string> setup_vq(const VqRequest& request, uint16_t msix_vector);
    Expected<void, std::string> request_msix_vectors(unsigned count);
    void del_vqs();
    void msi_interrupt(unsigned vector);

    PciFunction& fn_;
    boost::asio::io_context::executor_type executor_;
    VirtioPciBehaviour behaviour_;
    std::array<Bar, 6> bars_{};
    uint8_t modern_bars_ = 0;
    Window common_, isr_, notify_, device_;
    uint32_t notify_off_multiplier_ = 0;
    uint32_t device_id_ = 0;
    virtio::FeatureBits offered_ = 0;
    std::vector<uint64_t> notify_addr_; // per queue, from the notify structure's start
    std::vector<unsigned> vector_queue_; // per MSI-X vector, the queue it serves (one vector per queue)
    VirtioPciIrqMode irq_mode_ = VirtioPciIrqMode::kNone;
    unsigned msix_vectors_ = 0;
    bool intx_connected_ = false;
    EdgeIrqHandler intx_;
    std::shared_ptr<bool> alive_; // for MSI handlers still posted
};

} // namespace viommu::guest::virtio_drivers
