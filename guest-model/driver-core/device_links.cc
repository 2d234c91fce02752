#include "guest-model/driver-core/device_links.h"

#include <algorithm>

#include "guest-model/kernel/errno.h"

namespace viommu::guest::driver_core {
namespace {

void erase_link(std::vector<DeviceLink*>& list, const DeviceLink* link)
{
    list.erase(std::remove(list.begin(), list.end(), link), list.end());
}

// device_links_missing_supplier(): undo what a partial check_suppliers() did.
void missing_supplier(Device& dev)
{
    for (DeviceLink* link : dev.supplier_links()) {
        if (link->status != LinkState::consumer_probe)
            continue;
        link->status = link->supplier->link_status() == DevLinkStatus::driver_bound ? LinkState::available
                                                                                     : LinkState::dormant;
    }
}

// device_link_init_status(): the state a new managed link starts in, from both ends' status.
LinkState initial_status(const Device& consumer, const Device& supplier)
{
    switch (supplier.link_status()) {
    case DevLinkStatus::probing:
        return consumer.link_status() == DevLinkStatus::probing ? LinkState::consumer_probe : LinkState::dormant;
    case DevLinkStatus::driver_bound:
        switch (consumer.link_status()) {
        case DevLinkStatus::probing: return LinkState::consumer_probe;
        case DevLinkStatus::driver_bound: return LinkState::active;
        case DevLinkStatus::no_driver:
        case DevLinkStatus::unbinding: return LinkState::available;
        }
        return LinkState::available;
    case DevLinkStatus::unbinding: return LinkState::supplier_unbind;
    case DevLinkStatus::no_driver: return LinkState::dormant;
    }
    return LinkState::dormant;
}

} // namespace

bool DeviceLinks::depends_on(const Device& dev, const Device& target)
{
    // device_is_dependent(): target is dev itself, one of dev's children... (the model tracks parents,
    // so walk target's ancestry) or reachable through dev's consumer links.
    for (const Device* p = &target; p; p = p->parent())
        if (p == &dev)
            return true;
    for (const DeviceLink* link : dev.consumer_links())
        if (depends_on(*link->consumer, target))
            return true;
    return false;
}

Expected<DeviceLink*, int> DeviceLinks::add(Device& consumer, Device& supplier, uint32_t flags)
{
    if ((flags & ~kDlFlagStateless) != 0 || &consumer == &supplier || !supplier.registered() || supplier.dead())
        return unexpected(-kernel::kEINVAL);
    if (depends_on(consumer, supplier))
        return unexpected(-kernel::kEINVAL);
    for (DeviceLink* link : consumer.supplier_links())
        if (link->supplier == &supplier)
            return link;
    auto link = std::make_unique<DeviceLink>();
    link->consumer = &consumer;
    link->supplier = &supplier;
    link->flags = flags & kDlFlagStateless ? flags : flags | kDlFlagManaged;
    link->status = link->managed() ? initial_status(consumer, supplier) : LinkState::none;
    consumer.suppliers_.push_back(link.get());
    supplier.consumers_.push_back(link.get());
    links_.push_back(std::move(link));
    return links_.back().get();
}

DeviceLink* DeviceLinks::check_suppliers(Device& dev)
{
    DeviceLink* missing = nullptr;
    for (DeviceLink* link : dev.suppliers_) {
        if (!link->managed())
            continue;
        if (link->status != LinkState::available) {
            missing_supplier(dev);
            missing = link;
            break;
        }
        link->status = LinkState::consumer_probe;
    }
    // Set even when deferring, as the kernel does.
    dev.link_status_ = DevLinkStatus::probing;
    return missing;
}

void DeviceLinks::driver_bound(Device& dev)
{
    for (DeviceLink* link : dev.consumers_)
        if (link->managed() && link->status == LinkState::dormant)
            link->status = LinkState::available;
    for (DeviceLink* link : dev.suppliers_)
        if (link->managed() && link->status == LinkState::consumer_probe)
            link->status = LinkState::active;
    dev.link_status_ = DevLinkStatus::driver_bound;
}

void DeviceLinks::no_driver(Device& dev)
{
    for (DeviceLink* link : dev.consumers_)
        if (link->managed() && (link->status == LinkState::consumer_probe || link->status == LinkState::active))
            link->status = LinkState::dormant;
    for (DeviceLink* link : dev.suppliers_) {
        if (!link->managed() || (link->status != LinkState::consumer_probe && link->status != LinkState::active))
            continue;
        link->status = link->supplier->link_status() == DevLinkStatus::driver_bound ? LinkState::available
                                                                                     : LinkState::dormant;
    }
    dev.link_status_ = DevLinkStatus::no_driver;
}

bool DeviceLinks::busy(const Device& dev)
{
    for (const DeviceLink* link : dev.consumer_links())
        if (link->managed() && (link->status == LinkState::consumer_probe || link->status == LinkState::active))
            return true;
    return false;
}

std::vector<Device*> DeviceLinks::consumers_to_unbind(Device& dev)
{
    dev.link_status_ = DevLinkStatus::unbinding;
    std::vector<Device*> out;
    for (DeviceLink* link : dev.consumers_) {
        if (!link->managed())
            continue;
        if (link->status == LinkState::consumer_probe || link->status == LinkState::active)
            out.push_back(link->consumer);
        link->status = LinkState::supplier_unbind;
    }
    return out;
}

void DeviceLinks::driver_cleanup(Device& dev)
{
    for (DeviceLink* link : dev.consumers_)
        if (link->managed())
            link->status = LinkState::dormant;
    dev.link_status_ = DevLinkStatus::no_driver;
}

void DeviceLinks::remove_all(Device& dev)
{
    for (DeviceLink* link : std::vector<DeviceLink*>(dev.suppliers_))
        erase_link(link->supplier->consumers_, link);
    for (DeviceLink* link : std::vector<DeviceLink*>(dev.consumers_))
        erase_link(link->consumer->suppliers_, link);
    dev.suppliers_.clear();
    dev.consumers_.clear();
    std::erase_if(links_, [&](const std::unique_ptr<DeviceLink>& l) { return l->consumer == &dev || l->supplier == &dev; });
}

} // namespace viommu::guest::driver_core
