// The guest machine: hardware assembled around one io_context.
#include <catch2/catch.hpp>

#include <memory>

#include "system/machine/machine.h"
#include "hw/virtio-iommu/device.h"
#include "virtio/wire/mmio_regs.h"

using namespace viommu;

TEST_CASE("a machine destroyed with a queue notification still posted frees it cleanly", "[unit][machine]")
{
    // The posted run lives in the transport's handler memory: the io_context must destroy it before the
    // transport goes (the sanitizer build reports a use after free otherwise). fuzz-tool found this.
    auto machine = std::make_unique<system::machine::Machine>(system::machine::MachineConfig{0x4000'0000, 1 << 20});
    machine->add_device<hw::virtio_iommu::VirtioIommu>(hw::virtio_iommu::IommuConfig{});
    machine->slot(0).transport->write(virtio::mmio::kQueueNotify, 4, 0);
    machine.reset();
}
