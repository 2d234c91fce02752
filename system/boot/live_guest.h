// A booted guest kept alive, for a monitor to drive (system/monitor): its report as things stand, PCI
// hot-plug and unplug into empty PCIe root ports with the guest kernel's hot-plug path, and faults the
// device reports on demand. One thread at a time: the monitor runs commands one after the other.
#pragma once

#include <list>
#include <memory>
#include <string>

#include "base/expected.h"
#include "guest-model/profiles/profile.h"
#include "hw/virtio-iommu/device.h"
#include "system/boot/board.h"
#include "system/boot/guest.h"
#include "system/boot/guest_spec.h"
#include "system/boot/report.h"

namespace viommu::system::boot {

class Boot;

// QEMU's device_add of a PCI function: -device DRIVER,id=ID,bus=BUS[,host=...][,iommu_platform=on].
struct PlugRequest {
    std::string driver;         // "vfio-pci" or "virtio-net-pci"
    std::string id;             // its qdev ID ("" none: it cannot be unplugged by name)
    std::string bus;            // the root port's ID ("pci.5"); "" QEMU's choice, the root bus
    std::string host;           // vfio-pci: the host function ("0000:67:00.0")
    bool iommu_platform = false; // virtio: VIRTIO_F_ACCESS_PLATFORM (QEMU's default is off)
    // The first property QEMU would refuse, in its words, as the caller read them (the monitor reads
    // device_add's arguments): reported where QEMU sets properties, after the ID is found free.
    std::string property_error;
};

// id_wellformed() (util/id.c): a letter, then letters, digits, '-', '.' and '_'.
bool qdev_id_wellformed(const std::string& id);

// Why a plug or unplug was refused, in QEMU's words; not_found: the ID names no device (QMP's
// DeviceNotFound), else a GenericError.
struct PlugError {
    bool not_found = false;
    std::string message;
};

class LiveGuest {
public:
    // Boots the guest; throws as boot_guest() does for a spec or profile it cannot take.
    LiveGuest(GuestSpec spec, guest::profiles::Profile profile, BootOptions options = {});
    ~LiveGuest();
    LiveGuest(const LiveGuest&) = delete;
    LiveGuest& operator=(const LiveGuest&) = delete;

    const GuestSpec& spec() const { return spec_; }
    const guest::profiles::Profile& profile() const { return profile_; }
    GuestReport report();

    // The function's hot-plug, and the guest's: the report's entry for it afterwards.
    Expected<DeviceReport, PlugError> device_add(const PlugRequest& request);
    // The guest lets go of the function with that ID and it leaves the machine.
    Expected<void, PlugError> device_del(const std::string& id);

    // The device reports the fault on its event queue; what the guest logged for it.
    std::string inject_fault(const hw::virtio_iommu::FaultRecord& fault);

    // The machine's PCI functions (bus order is the caller's), and its virtio-iommu (nullptr: none).
    const std::list<Function>& functions() const;
    const hw::virtio_iommu::VirtioIommu* iommu() const;

private:
    Expected<FunctionDesc, PlugError> describe(const PlugRequest& request) const;
    Function* find(const std::string& id);

    GuestSpec spec_;
    guest::profiles::Profile profile_;
    BootOptions options_;
    std::unique_ptr<Boot> boot_;
};

} // namespace viommu::system::boot
