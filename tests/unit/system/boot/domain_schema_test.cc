// libvirt's schema check, parsed once per thread (system/boot/domain_schema.h), against libvirt's own
// check on every define: the same documents refused, with the same messages, and the same guests built
// from the rest. The documents are the domain XML fixtures, the domain-xml fuzzer's seeds, and
// schema-breaking variants of each.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "system/boot/libvirt_domain.h"

using namespace viommu::system::boot;
using viommu::Expected;

namespace {

std::vector<std::string> documents()
{
    std::vector<std::string> docs;
    for (const char* dir : {VIOMMU_FIXTURES_DIR, VIOMMU_DOMAIN_XML_SEEDS_DIR})
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (!entry.is_regular_file() || entry.file_size() > (1u << 20))
                continue;
            std::ifstream in(entry.path(), std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            docs.push_back(text.str());
        }
    // Each document again with one thing the schema forbids: an unknown element, an unknown attribute,
    // a value outside its type, an element out of place.
    const std::vector<std::pair<std::regex, std::string>> breakages = {
        {std::regex("<devices>"), "<devices><no-such-device/>"},
        {std::regex("<domain "), "<domain no-such-attribute='1' "},
        {std::regex("unit='[A-Za-z]+'"), "unit='furlongs'"},
        {std::regex("<os>"), "<os><name>misplaced</name>"},
        {std::regex("model='virtio'"), "model='virtio' model2='x'"},
        {std::regex("<memory"), "<memory unit='KiB'>-1</memory><memory"},
    };
    const std::size_t originals = docs.size();
    for (std::size_t i = 0; i < originals; ++i)
        for (const auto& [pattern, replacement] : breakages)
            if (std::regex_search(docs[i], pattern))
                docs.push_back(std::regex_replace(docs[i], pattern, replacement, std::regex_constants::format_first_only));
    return docs;
}

// The test driver's unique name for a define ("NAME~viommuN") differs between two parses of a document.
std::string outcome(const Expected<GuestSpec, DomainError>& r)
{
    if (!r)
        return std::regex_replace(fmt::format("error {}: {}", static_cast<int>(r.error().kind), r.error().message),
                                  std::regex("~viommu[0-9]+"), "~viommuN");
    return fmt::format("guest {}: {} functions, {} warnings, {} bytes of RAM", r->name, r->functions.size(),
                       r->warnings.size(), r->ram_bytes);
}

} // namespace

TEST_CASE("the schema parsed once refuses what libvirt's schema check refuses, with libvirt's message",
          "[unit][libvirt]")
{
    // Debian 12's libvirt 9.0, which viommu is built for, answers as the parsed copy does.
    REQUIRE(schema_parsed_once_available());
    const auto docs = documents();
    std::size_t schema_refusals = 0, built = 0;
    for (const std::string& doc : docs) {
        const auto once = parse_domain_xml(doc, "doc.xml", SchemaCheck::kParsedOnce);
        const auto each_time = parse_domain_xml(doc, "doc.xml", SchemaCheck::kLibvirtEachTime);
        INFO(doc);
        CHECK(outcome(once) == outcome(each_time));
        schema_refusals += !each_time && each_time.error().message.find("failed to validate against schema") != std::string::npos;
        built += each_time.has_value();
    }
    // Both kinds of answer were compared, many times.
    CHECK(schema_refusals >= 50);
    CHECK(built >= 10);
}
