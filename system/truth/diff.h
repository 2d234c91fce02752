// The model against a real boot, field by field, and the differences already known with their reasons
// (tests/ground-truth/known-differences.json; docs/ground-truth.md lists each one).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "system/truth/observation.h"

namespace viommu::system::truth {

struct Difference {
    std::string field; // "devices/0000:03:00.0/group", "endpoints/0x0300/maps", "iommu/features"
    std::string model;
    std::string real;
    std::string known; // the reason it is a known difference; "" when it is not
};

// Every field on which the two disagree, in a fixed order: the IOMMU, the devices in BDF order, the
// endpoints in ID order, the attach order. A value one side lacks reads "absent".
std::vector<Difference> diff(const Observation& model, const Observation& real);

// One known difference: the fields it covers (a glob), in which recordings (a glob; "*" for every run),
// and why the model differs there.
struct KnownDifference {
    std::string recording;
    std::string field;
    std::string reason;
};

// Reads tests/ground-truth/known-differences.json: an array of {recording, field, reason}, each reason
// a sentence. An error names the entry that is wrong.
Expected<std::vector<KnownDifference>, std::string> parse_known_differences(std::string_view text);

// Marks each difference with the reason of the first known difference that covers it in `recording`.
void mark_known(std::vector<Difference>& differences, const std::vector<KnownDifference>& known,
                std::string_view recording);

// A table: FIELD, MODEL, REAL, KNOWN (the reason, or "-"); "" when there are no differences.
std::string render_table(const std::vector<Difference>& differences);
nlohmann::ordered_json differences_json(const Observation& model, const std::vector<Difference>& differences);

} // namespace viommu::system::truth
