// Looking things up in a boot's report, for the tests of whole boots.
#pragma once

#include <string>

#include <catch2/catch.hpp>

#include "system/boot/report.h"

namespace viommu::test {

// The report of the device at bdf ("0000:00:06.0"); fails the test when there is none.
inline const system::boot::DeviceReport& device(const system::boot::GuestReport& r, const std::string& bdf)
{
    for (const system::boot::DeviceReport& d : r.devices)
        if (d.bdf == bdf)
            return d;
    FAIL("no device " << bdf);
    return r.devices.front();
}

} // namespace viommu::test
