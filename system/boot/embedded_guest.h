// The default guest's domain XML, compiled in (embed_json.py generates the definition from
// default_guest.xml at build time), so viommu-boot needs no file to boot it.
#pragma once

#include <string_view>

namespace viommu::system::boot::embedded {

std::string_view default_guest_xml_text();

} // namespace viommu::system::boot::embedded
