// fuzz-domain-xml: libvirt domain XML through viommu-boot's whole path. The first byte picks a built-in
// kernel profile of the guest's architecture, the rest is the document:
//   - guest_spec_from_normalised_xml(), the mapping alone, on the raw text: it promises that any input
//     is safe;
//   - parse_domain_xml(), which has libvirt's test:///default driver validate and normalise it; a
//     refusal must say why, and the driver must be there;
//   - for an accepted domain, boot_guest() twice with the profile and the report renderers
//     (tests/fuzz/boot_check.h): same report both times, a JSON report that parses, exit status 0 or 1.
// libvirt's define takes milliseconds, so this target is slow; documents are capped (kMaxDocument).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "system/boot/libvirt_domain.h"
#include "tests/fuzz/boot_check.h"
#include "tests/fuzz/finding.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace boot = viommu::system::boot;

namespace {

constexpr std::string_view kSource = "fuzz.xml";

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    quiet_logs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    if (size == 0 || size - 1 > kMaxDocument)
        return -1; // not kept in the corpus
    const std::string_view xml(reinterpret_cast<const char*>(data + 1), size - 1);

    (void)boot::guest_spec_from_normalised_xml(xml, kSource);

    const auto spec = boot::parse_domain_xml(xml, kSource);
    if (!spec) {
        if (spec.error().kind == boot::DomainError::Kind::kLibvirtUnavailable)
            finding("fuzz-domain-xml: libvirt's test driver is unavailable: " + spec.error().what());
        if (spec.error().message.empty())
            finding(fmt::format("fuzz-domain-xml: a refusal (kind {}) that does not say why",
                                static_cast<int>(spec.error().kind)));
        return 0;
    }
    // A guest outside the model is not booted: viommu-boot reports it as not modelled, with why.
    if (!spec->not_modelled.empty()) {
        if (spec->not_modelled.find("viommu models only the virtio-iommu") == std::string::npos)
            finding("fuzz-domain-xml: a guest not modelled without saying why: " + spec->not_modelled);
        return 0;
    }
    // viommu-boot boots a guest only with a kernel of its architecture (arch_mismatch()).
    std::vector<const guest::profiles::Profile*> fitting;
    for (const guest::profiles::Profile& p : builtin_profiles())
        if (p.fits(spec->arch))
            fitting.push_back(&p);
    check_boot(*spec, *fitting[data[0] % fitting.size()], "fuzz-domain-xml");
    return 0;
}
