// The QEMU machine the integration tests start: QEMU 7.2's virtio-iommu-pci at 00:02.0 and an endpoint
// for it at 00:03.0, 32 MiB of shared guest RAM.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "system/qemu/qemu_process.h"

namespace viommu::system::qemu::testing {

inline QemuConfig viommu_machine()
{
    QemuConfig config;
    config.ram_bytes = uint64_t{32} << 20;
    // An endpoint for the IOMMU to manage: virtio-rng needs no host backend.
    config.devices = {"virtio-iommu-pci,addr=02.0", "virtio-rng-pci,addr=03.0"};
    return config;
}

inline std::unique_ptr<QemuProcess> start_qemu(const QemuConfig& config = viommu_machine())
{
    auto qemu = QemuProcess::start(config);
    INFO((qemu ? std::string() : qemu.error()));
    REQUIRE(qemu);
    return std::move(*qemu);
}

} // namespace viommu::system::qemu::testing
