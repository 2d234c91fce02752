// query-pci's answer (QEMU 7.2 qapi/pci.json, PciInfo and PciDeviceInfo) for a live guest's functions.
#pragma once

#include <nlohmann/json.hpp>

#include "system/boot/live_guest.h"

namespace viommu::system::monitor {

nlohmann::ordered_json query_pci(const boot::LiveGuest& guest);

} // namespace viommu::system::monitor
