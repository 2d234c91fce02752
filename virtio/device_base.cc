#include "virtio/device_base.h"

#include <cstring>
#include <new>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "virtio/trace_events.h"

namespace viommu::virtio {
namespace {

// The ring a driver programmed, in the format it negotiated. With VIRTIO_F_RING_PACKED the transport's
// three queue addresses (virtio-pci queue_desc/queue_driver/queue_device §4.1.4.3, virtio-mmio
// QueueDesc/QueueDriver/QueueDevice §4.2.2) are the descriptor ring and the driver and device event
// suppression areas (§2.8).
Expected<Virtqueue, QueueError> make_ring(GuestMemory& mem, FeatureBits features, uint32_t size, GuestAddr desc,
                                          GuestAddr driver, GuestAddr device)
{
    const QueueLayout layout{desc, driver, device, (features & feature(kFEventIdx)) != 0,
                             (features & feature(kFIndirectDesc)) != 0};
    const auto format = (features & feature(kFRingPacked)) ? Virtqueue::Format::kPacked : Virtqueue::Format::kSplit;
    return Virtqueue::create(mem, size, layout, format);
}

} // namespace

DeviceBase::DeviceBase(const char* name, uint32_t device_id, GuestMemory& mem, FeatureBits features,
                       std::vector<uint16_t> queue_max_sizes)
    : name_(name), device_id_(device_id), mem_(&mem), device_features_(features)
{
    // Transports keep pending notifications in a 64-bit mask.
    if (queue_max_sizes.size() > 64)
        throw std::invalid_argument("a virtio device model has at most 64 queues");
    for (uint16_t max : queue_max_sizes) {
        QueueSlot slot;
        slot.max_size = max;
        slot.size = max;
        queues_.push_back(std::move(slot));
    }
}

bool DeviceBase::set_driver_features(FeatureBits features)
{
    if (features_ok())
        return false;
    driver_features_ = features;
    return true;
}

void DeviceBase::set_status(uint8_t requested)
{
    const uint8_t old = status_;
    trace_virtio_set_status(name_, old, requested);
    on_status_write(requested);
    if (requested == 0) {
        reset();
        return;
    }
    // §3.1.1: the driver only ever sets bits. A write that would clear one is refused as a whole; the
    // device-owned NEEDS_RESET bit is kept whatever the driver writes.
    const uint8_t driver_bits = old & static_cast<uint8_t>(~status::kNeedsReset);
    if ((requested & driver_bits) != driver_bits) {
        log_guest_error(fmt::format("guest error: status write {:#x} clears bits of {:#x}; ignored", requested, old));
        return;
    }
    uint8_t next = requested | (old & status::kNeedsReset);

    if ((next & status::kFeaturesOk) && !(old & status::kFeaturesOk)) {
        // §2.2.1: the device checks what the driver accepted; §6.1: a modern device needs VERSION_1.
        std::optional<std::string> refusal;
        if (driver_features_ & ~device_features_)
            refusal = fmt::format("driver accepted features {:#x} the device did not offer",
                                  driver_features_ & ~device_features_);
        else if (!(driver_features_ & feature(kFVersion1)))
            refusal = std::string("driver did not accept VIRTIO_F_VERSION_1");
        else
            refusal = validate_features(driver_features_);
        trace_virtio_features_ok(name_, driver_features_, device_features_, !refusal);
        if (refusal) {
            spdlog::debug("{}: FEATURES_OK refused: {}", name_, *refusal);
            next &= static_cast<uint8_t>(~status::kFeaturesOk);
        }
    }
    const bool features_accepted = (next & status::kFeaturesOk) && !(old & status::kFeaturesOk);
    const bool driver_ok_now = (next & status::kDriverOk) && !(old & status::kDriverOk);
    if (driver_ok_now && !(next & status::kFeaturesOk)) {
        status_ = next;
        fail("DRIVER_OK set without FEATURES_OK");
        return;
    }
    status_ = next;
    if (features_accepted)
        on_features_ok();
    if (driver_ok_now) {
        on_driver_ok();
        // §2.1.2: the device consumed nothing before DRIVER_OK; look at what the driver queued since.
        for (unsigned q = 0; q < queues_.size(); ++q)
            if (active_ring(q) && active_ring(q)->has_available())
                queue_notify(q);
    }
}

void DeviceBase::reset()
{
    trace_virtio_reset(name_);
    status_ = 0;
    driver_features_ = 0;
    broken_ = false;
    failure_.clear();
    isr_ = 0;
    for (QueueSlot& slot : queues_) {
        slot.ring.reset();
        slot.ready = false;
        slot.size = slot.max_size;
        slot.desc = slot.driver = slot.device = GuestAddr(0);
    }
    on_reset();
    if (listener_)
        listener_(isr_);
}

uint64_t DeviceBase::config_read(uint32_t offset, unsigned size) const
{
    if ((size != 1 && size != 2 && size != 4 && size != 8) || offset > config_size() ||
        size > config_size() - offset)
        return size >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
    uint8_t bytes[8] = {};
    read_config(offset, std::span(bytes, size));
    uint64_t value = 0;
    for (unsigned i = 0; i < size; ++i)
        value |= uint64_t{bytes[i]} << (8 * i);
    return value;
}

void DeviceBase::config_write(uint32_t offset, unsigned size, uint64_t value)
{
    if ((size != 1 && size != 2 && size != 4 && size != 8) || offset > config_size() ||
        size > config_size() - offset)
        return;
    uint8_t bytes[8];
    for (unsigned i = 0; i < size; ++i)
        bytes[i] = static_cast<uint8_t>(value >> (8 * i));
    write_config(offset, std::span<const uint8_t>(bytes, size));
}

void DeviceBase::read_config(uint32_t, std::span<uint8_t> out) const
{
    std::memset(out.data(), 0, out.size());
}

void DeviceBase::write_config(uint32_t, std::span<const uint8_t>) {}

void DeviceBase::set_queue_ready(unsigned q, bool ready)
{
    QueueSlot* slot = queue_slot(q);
    if (!slot || slot->max_size == 0)
        return;
    if (!ready) {
        slot->ready = false;
        slot->ring.reset();
        return;
    }
    if (slot->ready)
        return;
    if (slot->size > slot->max_size) {
        fail(fmt::format("queue {} size {} exceeds its maximum {}", q, slot->size, slot->max_size));
        return;
    }
    auto ring = make_ring(*mem_, driver_features_, slot->size, slot->desc, slot->driver, slot->device);
    if (!ring) {
        fail(fmt::format("queue {}: {}", q, describe(ring.error())));
        return;
    }
    trace_virtqueue_ready(name_, q, slot->size, slot->desc.value(), slot->driver.value(), slot->device.value());
    slot->ring.emplace(std::move(*ring));
    slot->ready = true;
}

void DeviceBase::reset_queue(unsigned q)
{
    QueueSlot* slot = queue_slot(q);
    if (!slot)
        return;
    slot->ring.reset();
    slot->ready = false;
    slot->size = slot->max_size;
    slot->desc = slot->driver = slot->device = GuestAddr(0);
}

void DeviceBase::queue_notify(unsigned q)
{
    trace_virtqueue_notify(name_, q);
    if (active_ring(q))
        on_queue_notify(q);
}

Virtqueue* DeviceBase::active_ring(unsigned q)
{
    // §2.1.2: nothing is consumed before DRIVER_OK, after FAILED, or once the device gave up.
    if (q >= queues_.size() || broken_ || !driver_ok() || (status_ & status::kFailed))
        return nullptr;
    QueueSlot& slot = queues_[q];
    return slot.ring ? &*slot.ring : nullptr;
}

bool DeviceBase::pop(unsigned q, std::optional<DescriptorChain>& slot)
{
    slot.reset();
    Virtqueue* ring = active_ring(q);
    if (!ring)
        return false;
    auto popped = ring->pop_into(slot);
    if (!popped) {
        fail(fmt::format("queue {}: {}", q, describe(popped.error())));
        return false;
    }
    if (*popped)
        trace_virtqueue_pop(name_, q, slot->head(), slot->readable_bytes(), slot->writable_bytes());
    return *popped;
}

void DeviceBase::push(unsigned q, DescriptorChain&& chain, uint32_t written)
{
    Virtqueue* ring = active_ring(q);
    if (!ring) {
        // The device gave up (or was reset) while holding the chain: forget it, as QEMU's
        // virtqueue_detach_element does.
        SplitQueue::detach(std::move(chain));
        return;
    }
    trace_virtqueue_push(name_, q, chain.head(), written);
    ring->push_used(std::move(chain), written);
}

void DeviceBase::notify_used(unsigned q)
{
    Virtqueue* ring = active_ring(q);
    if (ring && ring->should_notify())
        raise_interrupt(kIsrQueue, q);
}

void DeviceBase::config_changed()
{
    ++config_generation_;
    // QEMU's virtio_notify_config(): no configuration notification before DRIVER_OK.
    if (driver_ok())
        raise_interrupt(kIsrConfig);
}

void DeviceBase::raise_interrupt(uint32_t bits, std::optional<unsigned> queue)
{
    isr_ |= bits;
    trace_virtio_notify(name_, isr_);
    if (listener_)
        listener_(isr_);
    if (source_listener_)
        source_listener_(queue);
}

void DeviceBase::ack_interrupt(uint32_t bits)
{
    isr_ &= ~bits;
    if (listener_)
        listener_(isr_);
}

void DeviceBase::log_guest_error(std::string_view message)
{
    if (guest_errors_ > kGuestErrorsLogged)
        return;
    if (++guest_errors_ <= kGuestErrorsLogged)
        spdlog::warn("{}: {}", name_, message);
    else
        spdlog::warn("{}: further guest errors are not logged", name_);
}

void DeviceBase::fail(std::string_view why)
{
    if (broken_)
        return;
    broken_ = true;
    status_ |= status::kNeedsReset;
    // The device may be giving up because the host is out of memory: keeping the reason and logging it
    // must not throw out of here (its callers hold descriptor chains they still have to give back).
    try {
        failure_ = std::string(why);
        trace_virtio_device_fail(name_, failure_.c_str());
        log_guest_error(failure_);
    } catch (const std::bad_alloc&) {
        failure_.clear();
    }
    // §2.1.2: "the device MUST send a device configuration change notification to the driver" (not
    // before DRIVER_OK, as in QEMU's virtio_notify_config()).
    if (driver_ok())
        raise_interrupt(kIsrConfig);
}

} // namespace viommu::virtio

namespace viommu::virtio {

DeviceState DeviceBase::save_state() const
{
    DeviceState s{driver_features_, status_, broken_, failure_, config_generation_, isr_, {}};
    for (const QueueSlot& q : queues_)
        s.queues.push_back({q.size, q.desc, q.driver, q.device, q.ready, q.ring ? q.ring->indices() : QueueIndices{}});
    return s;
}

namespace {

// A status no driver could have brought the device to; nullopt if it breaks no rule.
std::optional<std::string> status_rule_broken(const DeviceState& s)
{
    // §3.1.1: the driver sets FEATURES_OK before DRIVER_OK.
    if ((s.status & status::kDriverOk) && !(s.status & status::kFeaturesOk))
        return "status has DRIVER_OK without FEATURES_OK (virtio v1.2 §3.1.1)";
    // §2.1.1: a driver that sets FAILED has given up on the device; it resets it before anything else.
    if (s.status & status::kFailed)
        return "status has FAILED set (virtio v1.2 §2.1.1: the driver gave up on the device)";
    // §2.1.2: the device sets NEEDS_RESET when, and only when, it has given up (is broken).
    if (((s.status & status::kNeedsReset) != 0) != s.broken)
        return s.broken ? "the device is broken but status lacks NEEDS_RESET (virtio v1.2 §2.1.2)"
                        : "status has NEEDS_RESET but the device is not broken (virtio v1.2 §2.1.2)";
    // §6.1: a device that is not legacy refuses FEATURES_OK without VERSION_1.
    if ((s.status & status::kFeaturesOk) && !(s.driver_features & feature(kFVersion1)))
        return "status has FEATURES_OK but VERSION_1 was not negotiated (virtio v1.2 §6.1)";
    return std::nullopt;
}

} // namespace

Expected<void, std::string> DeviceBase::restore_state(const DeviceState& s)
{
    if (s.queues.size() != queues_.size())
        return unexpected(fmt::format("{} queues in the snapshot, {} in the device", s.queues.size(), queues_.size()));
    if (s.driver_features & ~device_features_)
        return unexpected(fmt::format("negotiated features {:#x} include some the device does not offer ({:#x})",
                                      s.driver_features, device_features_));
    if (auto problem = status_rule_broken(s))
        return unexpected(*problem);
    // Build every ring before touching anything.
    std::vector<std::optional<Virtqueue>> rings(queues_.size());
    for (std::size_t i = 0; i < queues_.size(); ++i) {
        const QueueState& q = s.queues[i];
        if (q.size > queues_[i].max_size)
            return unexpected(fmt::format("queue {} size {} exceeds its maximum {}", i, q.size, queues_[i].max_size));
        if (!q.ready)
            continue;
        auto ring = make_ring(*mem_, s.driver_features, q.size, q.desc, q.driver, q.device);
        if (!ring)
            return unexpected(fmt::format("queue {}: {}", i, describe(ring.error())));
        if (!ring->restore(q.indices))
            return unexpected(fmt::format("queue {}: a packed ring position is not inside the ring of {}", i, q.size));
        rings[i].emplace(std::move(*ring));
    }
    driver_features_ = s.driver_features;
    status_ = s.status;
    broken_ = s.broken;
    failure_ = s.failure;
    config_generation_ = s.config_generation;
    isr_ = s.isr;
    for (std::size_t i = 0; i < queues_.size(); ++i) {
        QueueSlot& slot = queues_[i];
        slot.size = s.queues[i].size;
        slot.desc = s.queues[i].desc;
        slot.driver = s.queues[i].driver;
        slot.device = s.queues[i].device;
        slot.ready = s.queues[i].ready;
        slot.ring = std::move(rings[i]);
    }
    if (listener_)
        listener_(isr_);
    return {};
}

} // namespace viommu::virtio
