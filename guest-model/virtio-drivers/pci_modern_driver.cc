#include "guest-model/virtio-drivers/pci_modern_driver.h"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "virtio/wire/pci_regs.h"

namespace viommu::guest::virtio_drivers {

using namespace virtio::pci;

namespace {

// PCI_FIND_CAP_TTL (drivers/pci/pci.c): a capability list longer than this is a loop.
constexpr int kFindCapTtl = 48;
constexpr uint64_t kPageSize = 4096;
// sizeof(struct virtio_pci_common_cfg): what a driver needs of the common configuration.
constexpr uint64_t kCommonCfgMinLen = kQueueNotifyData;
// VP_MSIX_CONFIG_VECTOR and VP_MSIX_VQ_VECTOR (virtio_pci_common.h).
constexpr unsigned kConfigVector = 0;
constexpr unsigned kSharedVqVector = 1;
// VIRTIO_PCI_ISR_CONFIG: bit 1 of the ISR status is a configuration change, bit 0 a used buffer.
constexpr uint8_t kIsrConfig = 0x2;

} // namespace

VirtioPciModernDriver::VirtioPciModernDriver(const PciDeviceHandle& device, VirtioPciBehaviour behaviour)
    : VirtioTransport(device.memory, device.allocator, device.cpu), fn_(device.function), executor_(device.executor),
      behaviour_(behaviour), intx_(device.executor, [this] { interrupt(); }), alive_(std::make_shared<bool>(true))
{
}

VirtioPciModernDriver::~VirtioPciModernDriver()
{
    *alive_ = false;
    if (intx_connected_)
        fn_.intx().connect(nullptr);
    if (msix_vectors_)
        fn_.free_msi();
}

void VirtioPciModernDriver::read_bars()
{
    // __pci_read_base(): size each BAR with decoding off, by writing all ones and reading back the
    // bits that stuck; its address is what firmware programmed.
    const auto command = static_cast<uint16_t>(fn_.config_read(kCommand, 2));
    fn_.config_write(kCommand, 2, command & ~(kCommandIo | kCommandMemory));
    for (unsigned i = 0; i < kBarCount; ++i) {
        const uint32_t at = kBar0 + 4 * i;
        const uint32_t low = fn_.config_read(at, 4);
        fn_.config_write(at, 4, 0xffffffff);
        const uint32_t low_mask = fn_.config_read(at, 4);
        fn_.config_write(at, 4, low);
        Bar& bar = bars_[i];
        if (low & 1) // I/O space: this model's platforms give virtio-pci none
            continue;
        uint64_t address = low & ~0xfu;
        uint64_t mask = low_mask & ~0xfu;
        const bool is64 = (low & 0x6) == kBarMemType64 && i + 1 < kBarCount;
        if (is64) {
            const uint32_t high_at = at + 4;
            const uint32_t high = fn_.config_read(high_at, 4);
            fn_.config_write(high_at, 4, 0xffffffff);
            const uint32_t high_mask = fn_.config_read(high_at, 4);
            fn_.config_write(high_at, 4, high);
            address |= uint64_t{high} << 32;
            mask |= uint64_t{high_mask} << 32;
        } else {
            mask |= 0xffffffff00000000ull;
        }
        if (mask != 0 && (low_mask & ~0xfu) != 0) {
            bar.memory = true;
            bar.address = address;
            bar.length = ~mask + 1; // the lowest bit that stuck
        }
        if (is64)
            ++i;
    }
    fn_.config_write(kCommand, 2, command);
}

uint8_t VirtioPciModernDriver::find_capability(uint8_t cap_id, uint8_t start)
{
    // __pci_find_next_cap_ttl(): positions below 0x40 end the list, the low two bits are reserved.
    if (start == 0) {
        if (!(fn_.config_read(kStatus, 2) & kStatusCapList))
            return 0;
        start = static_cast<uint8_t>(fn_.config_read(kCapabilityList, 1));
    } else {
        start = static_cast<uint8_t>(fn_.config_read(start + kCapNext, 1));
    }
    uint8_t pos = start;
    for (int ttl = kFindCapTtl; ttl > 0; --ttl) {
        if (pos < kFirstCapability)
            break;
        pos &= ~3u;
        const uint32_t ent = fn_.config_read(pos, 2);
        const auto id = static_cast<uint8_t>(ent & 0xff);
        if (id == 0xff)
            break;
        if (id == cap_id)
            return pos;
        pos = static_cast<uint8_t>(ent >> 8);
    }
    return 0;
}

uint8_t VirtioPciModernDriver::find_virtio_capability(uint8_t cfg_type)
{
    // virtio_pci_find_capability(): the first vendor capability of the type whose BAR exists.
    for (uint8_t pos = find_capability(kCapIdVendor); pos; pos = find_capability(kCapIdVendor, pos)) {
        const auto type = static_cast<uint8_t>(fn_.config_read(pos + kCapCfgType, 1));
        const auto bar = static_cast<uint8_t>(fn_.config_read(pos + kCapBar, 1));
        if (bar >= kBarCount) // structures with reserved BAR values are ignored
            continue;
        if (type == cfg_type && bars_[bar].length && bars_[bar].memory) {
            modern_bars_ |= static_cast<uint8_t>(1u << bar);
            return pos;
        }
    }
    return 0;
}

Expected<VirtioPciModernDriver::Window, std::string>
VirtioPciModernDriver::map_capability(uint8_t cap, uint64_t minlen, uint32_t align, uint32_t start, uint64_t size)
{
    // vp_modern_map_capability(), check for check and message for message.
    const auto bar = static_cast<uint8_t>(fn_.config_read(cap + kCapBar, 1));
    uint32_t offset = fn_.config_read(cap + kCapOffset, 4);
    uint32_t length = fn_.config_read(cap + kCapLength, 4);
    if (bar >= kBarCount || !(modern_bars_ & (1u << bar)))
        return unexpected(fmt::format("virtio_pci: bar unexpectedly changed to {}", bar));
    if (length <= start)
        return unexpected(fmt::format("virtio_pci: bad capability len {} (>{} expected)", length, start));
    if (length - start < minlen)
        return unexpected(fmt::format("virtio_pci: bad capability len {} (>={} expected)", length, minlen));
    length -= start;
    if (start + offset < offset)
        return unexpected(fmt::format("virtio_pci: map wrap-around {}+{}", start, offset));
    offset += start;
    if (offset & (align - 1))
        return unexpected(fmt::format("virtio_pci: offset {} not aligned to {}", offset, align));
    const uint64_t mapped = std::min<uint64_t>(length, size);
    const uint64_t bar_length = bars_[bar].length;
    if (minlen + offset < minlen || minlen + offset > bar_length)
        return unexpected(fmt::format("virtio_pci: map virtio {}@{} out of range on bar {} length {}", minlen, offset,
                                      bar, bar_length));
    // pci_iomap_range() maps no further than the BAR's end.
    return Window{bars_[bar].address + offset, std::min<uint64_t>(mapped, bar_length - offset)};
}

Expected<void, std::string> VirtioPciModernDriver::map_capabilities(uint8_t common, uint8_t isr, uint8_t notify,
                                                                     uint8_t device)
{
    auto c = map_capability(common, kCommonCfgMinLen, 4, 0, kCommonCfgSize);
    if (!c)
        return unexpected(c.error());
    auto i = map_capability(isr, 1, 1, 0, 1);
    if (!i)
        return unexpected(i.error());
    notify_off_multiplier_ = fn_.config_read(notify + kCapNotifyOffMultiplier, 4);
    const uint32_t notify_length = fn_.config_read(notify + kCapLength, 4);
    // The whole notify structure is mapped when it fits in a page, as it always does on QEMU; Linux
    // otherwise maps each queue's address alone (notify_map_cap), which this model does not.
    auto n = map_capability(notify, 2, 2, 0, notify_length);
    if (!n)
        return unexpected(n.error());
    common_ = *c;
    isr_ = *i;
    notify_ = *n;
    device_ = {};
    // The device structure is mandatory only for devices that have device-specific configuration.
    if (device) {
        auto d = map_capability(device, 0, 4, 0, kPageSize);
        if (!d)
            return unexpected(d.error());
        device_ = *d;
    }
    return {};
}

Expected<void, std::string> VirtioPciModernDriver::probe()
{
    // The PCI ID table matches vendor 0x1af4, any device (virtio_pci_id_table).
    const uint32_t ids = fn_.config_read(kVendorId, 4);
    const auto vendor = static_cast<uint16_t>(ids & 0xffff);
    const auto device = static_cast<uint16_t>(ids >> 16);
    if (vendor != kVirtioVendorId)
        return unexpected(fmt::format("not a virtio function (vendor 0x{:04x})", vendor));
    // vp_modern_probe(): "We only own devices >= 0x1000 and <= 0x107f: leave the rest."
    if (device < 0x1000 || device > 0x107f)
        return unexpected(fmt::format("not a virtio function (device 0x{:04x})", device));
    // A transitional device's virtio ID is its subsystem ID, as the legacy driver always took it.
    device_id_ = device < kModernDeviceIdBase ? fn_.config_read(kSubsystemId, 2) : device - kModernDeviceIdBase;

    read_bars();
    modern_bars_ = 0;
    const uint8_t common = find_virtio_capability(kCapCommonCfg);
    if (!common)
        return unexpected(std::string("virtio_pci: leaving for legacy driver"));
    const uint8_t isr = find_virtio_capability(kCapIsrCfg);
    const uint8_t notify = find_virtio_capability(kCapNotifyCfg);
    if (!isr || !notify)
        return unexpected(fmt::format("virtio_pci: missing capabilities {}/{}/{}", common, isr, notify));
    const uint8_t device_cap = find_virtio_capability(kCapDeviceCfg);
    if (auto ok = map_capabilities(common, isr, notify, device_cap); !ok)
        return ok;
    // pci_enable_device() turns on memory decoding; virtio_pci_probe()'s pci_set_master() bus mastering.
    const auto command = static_cast<uint16_t>(fn_.config_read(kCommand, 2));
    fn_.config_write(kCommand, 2, command | kCommandMemory | kCommandMaster);
    return {};
}

uint64_t VirtioPciModernDriver::window_read(const Window& w, uint64_t offset, unsigned size)
{
    // An access outside what was mapped would fault in the kernel; here it reads all ones.
    if (offset > w.length || size > w.length - offset)
        return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
    return fn_.memory_space().read(w.base + offset, size);
}

void VirtioPciModernDriver::window_write(const Window& w, uint64_t offset, unsigned size, uint64_t value)
{
    if (offset > w.length || size > w.length - offset)
        return;
    fn_.memory_space().write(w.base + offset, size, value);
}

uint64_t VirtioPciModernDriver::common_read(uint32_t offset, unsigned size)
{
    return window_read(common_, offset, size);
}

void VirtioPciModernDriver::common_write(uint32_t offset, unsigned size, uint64_t value)
{
    // vp_iowrite64_twopart(): a 64-bit field as two 32-bit writes, low half first.
    if (size == 8) {
        window_write(common_, offset, 4, static_cast<uint32_t>(value));
        window_write(common_, offset + 4, 4, static_cast<uint32_t>(value >> 32));
        return;
    }
    window_write(common_, offset, size, value);
}

uint8_t VirtioPciModernDriver::status()
{
    return static_cast<uint8_t>(common_read(kDeviceStatus, 1));
}

void VirtioPciModernDriver::set_status(uint8_t s)
{
    common_write(kDeviceStatus, 1, s);
}

void VirtioPciModernDriver::reset()
{
    // vp_reset(): "the driver MUST wait for a read of device_status to return 0 before reinitializing
    // the device" (virtio v1.2 §4.1.4.3.2).
    set_status(0);
    while (status() != 0 && cpu().wait()) {
    }
    negotiated_ = 0;
    del_vqs();
}

virtio::FeatureBits VirtioPciModernDriver::device_features()
{
    common_write(kDeviceFeatureSelect, 4, 0);
    virtio::FeatureBits f = common_read(kDeviceFeature, 4);
    common_write(kDeviceFeatureSelect, 4, 1);
    f |= common_read(kDeviceFeature, 4) << 32;
    offered_ = f;
    return f;
}

Expected<void, std::string> VirtioPciModernDriver::finalize_features(virtio::FeatureBits features)
{
    features = ring_transport_features(features, behaviour_.ring);
    // vp_transport_features(): the offered features virtio_pci takes itself, whatever the driver's
    // table says (VIRTIO_F_SR_IOV needs an SR-IOV capability, which a conventional function lacks).
    if (behaviour_.ring_reset && (offered_ & virtio::feature(virtio::kFRingReset)))
        features |= virtio::feature(virtio::kFRingReset);
    if (!(features & virtio::feature(virtio::kFVersion1)))
        return unexpected(std::string("virtio: device uses modern interface but does not have VIRTIO_F_VERSION_1"));
    common_write(kDriverFeatureSelect, 4, 0);
    common_write(kDriverFeature, 4, static_cast<uint32_t>(features));
    common_write(kDriverFeatureSelect, 4, 1);
    common_write(kDriverFeature, 4, static_cast<uint32_t>(features >> 32));
    // virtio_features_ok()
    add_status(virtio::status::kFeaturesOk);
    const uint8_t s = status();
    if (!(s & virtio::status::kFeaturesOk))
        return unexpected(fmt::format("virtio: device refuses features: {:x}", s));
    negotiated_ = features;
    return {};
}

uint32_t VirtioPciModernDriver::config_generation()
{
    return static_cast<uint32_t>(common_read(kConfigGeneration, 1));
}

uint64_t VirtioPciModernDriver::device_config_read(uint32_t offset, unsigned size)
{
    // vp_get(): an 8-byte field as two 32-bit reads.
    if (size == 8)
        return window_read(device_, offset, 4) | window_read(device_, uint64_t{offset} + 4, 4) << 32;
    return window_read(device_, offset, size);
}

void VirtioPciModernDriver::config_write(uint32_t offset, unsigned size, uint64_t value)
{
    if (size == 8) {
        window_write(device_, offset, 4, static_cast<uint32_t>(value));
        window_write(device_, uint64_t{offset} + 4, 4, static_cast<uint32_t>(value >> 32));
        return;
    }
    window_write(device_, offset, size, value);
}

Expected<void, std::string> VirtioPciModernDriver::request_msix_vectors(unsigned count)
{
    // pci_alloc_irq_vectors(count, count, PCI_IRQ_MSIX): all or nothing.
    const uint8_t cap = find_capability(kCapIdMsix);
    if (!cap)
        return unexpected(std::string("no MSI-X capability"));
    const auto control = static_cast<uint16_t>(fn_.config_read(cap + kMsixFlags, 2));
    const unsigned table_size = (control & kMsixFlagsTableSize) + 1u;
    if (count > table_size)
        return unexpected(fmt::format("{} MSI-X vectors wanted, the table has {}", count, table_size));
    const uint32_t table = fn_.config_read(cap + kMsixTable, 4);
    const unsigned bir = table & 7;
    const uint64_t table_offset = table & ~7u;
    if (bir >= kBarCount || !bars_[bir].memory || table_offset + uint64_t{count} * kMsixEntrySize > bars_[bir].length)
        return unexpected(std::string("MSI-X table outside its BAR"));
    // msix_capability_init(): enabled with every vector masked while the table is written.
    fn_.config_write(cap + kMsixFlags, 2, control | kMsixFlagsEnable | kMsixFlagsMaskAll);
    std::weak_ptr<bool> alive = alive_;
    for (unsigned v = 0; v < count; ++v) {
        auto message = fn_.alloc_msi([this, alive, v] {
            boost::asio::post(executor_, [this, alive, v] {
                if (auto a = alive.lock(); a && *a)
                    msi_interrupt(v);
            });
        });
        if (!message) {
            fn_.free_msi();
            fn_.config_write(cap + kMsixFlags, 2, control & ~(kMsixFlagsEnable | kMsixFlagsMaskAll));
            return unexpected(std::string("the platform has no MSI vector left"));
        }
        const uint64_t entry = bars_[bir].address + table_offset + uint64_t{v} * kMsixEntrySize;
        fn_.memory_space().write(entry + kMsixEntryLowerAddr, 4, static_cast<uint32_t>(message->address));
        fn_.memory_space().write(entry + kMsixEntryUpperAddr, 4, static_cast<uint32_t>(message->address >> 32));
        fn_.memory_space().write(entry + kMsixEntryData, 4, message->data);
        fn_.memory_space().write(entry + kMsixEntryVectorCtrl, 4, 0); // unmasked, as request_irq() leaves it
    }
    // pci_intx_for_msi(): INTx off while MSI-X is on.
    const auto command = static_cast<uint16_t>(fn_.config_read(kCommand, 2));
    fn_.config_write(kCommand, 2, command | kCommandIntxDisable);
    fn_.config_write(cap + kMsixFlags, 2, (control | kMsixFlagsEnable) & ~kMsixFlagsMaskAll);
    msix_vectors_ = count;
    return {};
}

Expected<void, std::string> VirtioPciModernDriver::setup_vq(const VqRequest& request, uint16_t msix_vector)
{
    // setup_vq() of virtio_pci_modern.c.
    const unsigned index = request.index;
    if (index >= common_read(kNumQueues, 2))
        return unexpected(fmt::format("queue {} does not exist", index));
    common_write(kQueueSelect, 2, index);
    const auto num = static_cast<uint32_t>(common_read(kQueueSize, 2));
    if (num == 0 || common_read(kQueueEnable, 2))
        return unexpected(fmt::format("queue {} is not available or already active", index));
    // vp_modern_map_vq_notify(): the queue's address must lie inside the notify structure.
    const uint64_t notify_off = common_read(kQueueNotifyOff, 2);
    const uint64_t at = notify_off * notify_off_multiplier_;
    if (at + 2 > notify_.length)
        return unexpected(fmt::format("bad notification offset {} (x {}) for queue {} > {}", notify_off,
                                      notify_off_multiplier_, index, notify_.length));
    auto ring = DriverQueue::create(memory(), allocator(), ring_options(num));
    if (!ring)
        return unexpected(ring.error());
    common_write(kQueueSize, 2, num);
    common_write(kQueueDesc, 8, ring->desc_addr().value());
    common_write(kQueueDriver, 8, ring->driver_area().value());
    common_write(kQueueDevice, 8, ring->device_area().value());
    if (msix_vector != kNoVector) {
        common_write(kQueueMsixVector, 2, msix_vector);
        if (common_read(kQueueMsixVector, 2) == kNoVector)
            return unexpected(fmt::format("queue {}: the device did not take MSI-X vector {}", index, msix_vector));
    }
    if (notify_addr_.size() <= index)
        notify_addr_.resize(index + 1);
    notify_addr_[index] = at;
    install_queue(index, std::move(*ring), request.callback);
    return {};
}

Expected<void, std::string> VirtioPciModernDriver::try_find_vqs(std::span<const VqRequest> queues,
                                                                VirtioPciIrqMode mode)
{
    // vp_find_vqs_msix() and vp_find_vqs_intx().
    unsigned next_vector = 0;
    if (mode == VirtioPciIrqMode::kIntx) {
        fn_.intx().connect(&intx_);
        intx_connected_ = true;
    } else {
        unsigned vectors = 2;
        if (mode == VirtioPciIrqMode::kMsixPerVq) {
            vectors = 1;
            for (const VqRequest& q : queues)
                vectors += q.callback ? 1 : 0;
        }
        if (auto ok = request_msix_vectors(vectors); !ok)
            return ok;
        // vp_request_msix_vectors(): the configuration vector, read back to see that it stuck.
        common_write(kMsixConfig, 2, kConfigVector);
        if (common_read(kMsixConfig, 2) == kNoVector)
            return unexpected(std::string("the device did not take the configuration vector"));
        next_vector = kConfigVector + 1;
    }
    irq_mode_ = mode;
    for (const VqRequest& q : queues) {
        uint16_t vector = kNoVector;
        if (mode == VirtioPciIrqMode::kMsixPerVq && q.callback) {
            vector = static_cast<uint16_t>(next_vector++);
            vector_queue_.resize(vector + 1u);
            vector_queue_[vector] = q.index;
        }
        else if (mode == VirtioPciIrqMode::kMsixShared && q.callback)
            vector = kSharedVqVector;
        if (auto ok = setup_vq(q, vector); !ok)
            return ok;
    }
    return {};
}

Expected<void, std::string> VirtioPciModernDriver::find_vqs(std::span<const VqRequest> queues)
{
    // vp_find_vqs(): MSI-X with a vector per queue, then MSI-X shared, then INTx if the function has an
    // interrupt pin; each failed attempt is undone (vp_del_vqs()) before the next.
    Expected<void, std::string> result = unexpected(std::string("no interrupt"));
    for (VirtioPciIrqMode mode : {VirtioPciIrqMode::kMsixPerVq, VirtioPciIrqMode::kMsixShared}) {
        result = try_find_vqs(queues, mode);
        if (result)
            break;
        del_vqs();
    }
    if (!result) {
        if (fn_.config_read(kInterruptPin, 1) == 0)
            return result;
        result = try_find_vqs(queues, VirtioPciIrqMode::kIntx);
        if (!result) {
            del_vqs();
            return result;
        }
    }
    // vp_modern_find_vqs(): "Select and activate all queues. Has to be done last: once we do this,
    // there's no way to go back except reset."
    for (const VqRequest& q : queues) {
        common_write(kQueueSelect, 2, q.index);
        common_write(kQueueEnable, 2, 1);
    }
    return {};
}

void VirtioPciModernDriver::del_vqs()
{
    // vp_del_vqs(): queues and configuration lose their vectors, the vectors go back to the platform.
    if (msix_vectors_) {
        for (unsigned i = 0; i < notify_addr_.size(); ++i) {
            if (!vq(i))
                continue;
            common_write(kQueueSelect, 2, i);
            common_write(kQueueMsixVector, 2, kNoVector);
        }
        common_write(kMsixConfig, 2, kNoVector);
        fn_.free_msi();
        if (const uint8_t cap = find_capability(kCapIdMsix)) {
            const auto control = static_cast<uint16_t>(fn_.config_read(cap + kMsixFlags, 2));
            fn_.config_write(cap + kMsixFlags, 2, control & ~(kMsixFlagsEnable | kMsixFlagsMaskAll));
        }
        const auto command = static_cast<uint16_t>(fn_.config_read(kCommand, 2));
        fn_.config_write(kCommand, 2, command & ~kCommandIntxDisable);
        msix_vectors_ = 0;
    }
    if (intx_connected_) {
        fn_.intx().connect(nullptr);
        intx_connected_ = false;
        intx_.forget_level();
    }
    drop_queues();
    notify_addr_.clear();
    vector_queue_.clear();
    irq_mode_ = VirtioPciIrqMode::kNone;
}

void VirtioPciModernDriver::notify(unsigned index)
{
    if (index < notify_addr_.size() && vq(index))
        window_write(notify_, notify_addr_[index], 2, index);
}

void VirtioPciModernDriver::interrupt()
{
    const auto isr = static_cast<uint8_t>(window_read(isr_, 0, 1));
    if (isr == 0)
        return; // IRQ_NONE: a shared line, someone else's interrupt
    count_interrupt();
    if (isr & kIsrConfig)
        config_changed();
    vring_interrupt();
}

void VirtioPciModernDriver::msi_interrupt(unsigned vector)
{
    if (vector >= msix_vectors_)
        return;
    count_interrupt();
    if (vector == kConfigVector) {
        config_changed(); // vp_config_changed()
        return;
    }
    if (irq_mode_ == VirtioPciIrqMode::kMsixShared) {
        vring_interrupt(); // vp_vring_interrupt()
        return;
    }
    // One vector per queue with a callback: request_irq() gave each its queue.
    if (vector < vector_queue_.size())
        vring_interrupt(vector_queue_[vector]);
}

} // namespace viommu::guest::virtio_drivers
