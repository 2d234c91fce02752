// What a driver's wait is when the device is QEMU's, under qtest.
//
// With TCG, QEMU processes a virtqueue notification inside the MMIO write that makes it: virtio-pci
// uses an ioeventfd only when KVM can offer many of them (virtio_pci_device_plugged() clears
// VIRTIO_PCI_FLAG_USE_IOEVENTFD otherwise, hw/virtio/virtio-pci.c), so the notify write calls the
// device's queue handler directly (virtio_queue_notify()). Verified with QEMU 7.2's virtio-iommu-pci
// (tests/integration/system/qemu/qemu_peer_test.cc): the used ring holds the request's answer as soon as
// the qtest write of the notification has been answered, and an interrupt the device raised then (INTx
// to the I/O APIC, intercepted) has arrived as an "IRQ raise" line before that answer.
//
// So nothing is ever left for a wait to run: wait() reads the interrupt lines QEMU has already sent
// (QtestClient::take_pending_events()) and returns whether any arrived since the last wait, including
// those that came in ahead of a reply. A driver waiting for used buffers re-reads the used ring in the
// shared guest memory.
// What a driver can observe of interrupts:
//   INTx   "irq_intercept_in ioapic" reports the I/O APIC's inputs as IRQ lines; a level-triggered INTx
//          reads back through QtestClient::irq_level(gsi). QEMU 7.2's virtio-iommu-pci has INTx only:
//          it has no "vectors" property, and virtio_pci_device_plugged() creates the MSI-X BAR only for
//          a non-zero vector count. Its INTA at slot 2 is GSI 22; reading the ISR lowers it.
//   MSI-X  a message is a 32-bit memory write by the function (msi_send_message(), hw/pci/msi.c) into
//          the bus master address space; one to the APIC window at 0xfee00000 reaches the local APIC and
//          qtest reports no line for it. QEMU's libqos (tests/qtest/libqos/virtio-pci.c) observes MSI-X
//          the two ways that remain: a table entry whose address is guest RAM (the message is then a
//          word in RAM, here in the shared memory, read with no request), or a masked vector and its
//          Pending Bit Array bit (PCI 3.0 §6.8.2.10). Not exercised here yet: no device under test uses
//          MSI-X.
#pragma once

#include "base/bus.h"
#include "system/qemu/qtest_client.h"

namespace viommu::system::qemu {

class QtestWaitForEvent final : public WaitForEvent {
public:
    explicit QtestWaitForEvent(QtestClient& qtest) : qtest_(qtest) {}
    // False also when the qtest stream has failed (QtestClient::failure() says why).
    bool wait() override;

private:
    QtestClient& qtest_;
    uint64_t events_seen_ = 0;
};

} // namespace viommu::system::qemu
