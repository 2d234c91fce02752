// The workload patterns: named, each with a recipe per endpoint driver it applies to.
#include <catch2/catch.hpp>

#include "system/workload/pattern.h"

using namespace viommu::system::workload;

TEST_CASE("A pattern is found by its name, and an unknown name finds none")
{
    REQUIRE(find_pattern("disk-4k-randread"));
    CHECK(find_pattern("disk-4k-randread")->applies == Applies::kDisk);
    CHECK(find_pattern("net-64k")->applies == Applies::kNic);
    CHECK(find_pattern("disk-4k") == nullptr);
    CHECK(find_pattern("") == nullptr);
}

TEST_CASE("A disk pattern has recipes for disk drivers only, a NIC pattern for NIC drivers only")
{
    for (const Pattern& p : patterns()) {
        INFO(p.name);
        const bool disk = p.applies == Applies::kDisk;
        CHECK((recipe_for(p, Family::kVirtioBlk) != nullptr) == disk);
        CHECK((recipe_for(p, Family::kAhci) != nullptr) == disk);
        CHECK((recipe_for(p, Family::kVirtioNet) != nullptr) == !disk);
        CHECK((recipe_for(p, Family::kIntelNic) != nullptr) == !disk);
    }
}

TEST_CASE("virtio_ring maps an indirect table of one descriptor per entry when a request has several")
{
    // virtqueue_use_indirect(): more than one entry; the table is total_sg struct vring_desc of 16 bytes.
    for (const Pattern& p : patterns())
        for (const Recipe& r : p.recipes) {
            if (r.family != Family::kVirtioBlk && r.family != Family::kVirtioNet)
                continue;
            INFO(p.name << " " << family_name(r.family));
            unsigned entries = 0;
            const Buffer* table = nullptr;
            for (const Buffer& b : r.buffers) {
                if (std::string_view(b.what).find("indirect table") != std::string_view::npos)
                    table = &b;
                else
                    entries += b.segments;
            }
            CHECK((table != nullptr) == (entries > 1));
            if (table)
                CHECK(table->bytes == 16 * entries);
        }
}

TEST_CASE("--workload help lists every pattern with each driver's calls")
{
    const std::string help = describe_patterns();
    for (const Pattern& p : patterns())
        CHECK(help.find(std::string(p.name) + ": ") != std::string::npos);
    CHECK(help.find("dma_map_sg 16 x data pages of 4096 bytes, from device") != std::string::npos);
}
