#include "tests/fuzz/observation.h"

#include <fmt/format.h>

namespace viommu::fuzz {

std::string describe(const Observation& o)
{
    std::string out;
    for (const Reply& r : o.replies) {
        if (!r.returned)
            out += "  request not returned\n";
        else
            out += fmt::format("  request returned, used_len {}: {:02x}\n", r.used_len, fmt::join(r.written, ""));
    }
    for (const Translated& t : o.translated) {
        if (t.ok)
            out += fmt::format("  translate: ok, gpa {:#x}, contiguous {:#x}\n", t.gpa, t.contiguous);
        else
            out += "  translate: failed\n";
        for (const FaultReport& f : t.faults)
            out += fmt::format("    fault: reason {} flags {:#x} endpoint {} address {:#x}{}\n", f.reason, f.flags,
                               f.endpoint, f.address, f.reserved_zero ? "" : " (reserved bytes not zero)");
    }
    out += fmt::format("  needs_reset {}\n", o.needs_reset);
    return out;
}

} // namespace viommu::fuzz
