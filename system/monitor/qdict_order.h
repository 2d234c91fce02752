// The order in which a QEMU QDict holds its members (qobject/qdict.c): by tdb_hash() bucket of the key
// (QDICT_BUCKET_MAX 512, the key as modified UTF-8), and within a bucket the last inserted first. QEMU
// writes objects in that order and sets a device's properties in it.
#pragma once

#include <string_view>

namespace viommu::system::monitor {

unsigned qdict_bucket(std::string_view key);

} // namespace viommu::system::monitor
