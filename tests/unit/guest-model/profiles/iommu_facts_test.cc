// The IOMMU core's facts (drivers/iommu/iommu.c, dma-iommu.c): default domains, strict and lazy
// invalidation, its boot lines, DMA ownership and when a device gets its group. One TEST_CASE per rule.
#include <catch2/catch.hpp>

#include "tests/unit/guest-model/profiles/decide.h"

using viommu::test::check_starts_at;
using viommu::test::decide;

TEST_CASE("the default domain type is logged from v5.4, whose commit id was not established", "[unit][profiles]")
{
    check_starts_at("iommu.default_domain_log", "4.19.325", "5.4");
    const auto d = decide("iommu.default_domain_log", "5.10");
    CHECK(d.commit.empty());
    CHECK(d.why.starts_with(
        "in mainline since v5.4 (commit id not established: Joerg Roedel's iommu-updates-v5.4 pull lists it"));
}

TEST_CASE("lazy invalidation is the DMA_FQ domain type from v5.15 (bf3aed4660c6)", "[unit][profiles]")
{
    check_starts_at("iommu.dma_fq_type", "5.14.21", "5.15");
    CHECK_FALSE(decide("iommu.dma_fq_type", "5.10").present);
}

TEST_CASE("the TLB invalidation policy is logged from v5.15 (d8577d2e331d)", "[unit][profiles]")
{
    check_starts_at("iommu.tlb_policy_log", "5.14.21", "5.15");
}

TEST_CASE("from v6.5 a flush queue needs IOMMU_CAP_DEFERRED_FLUSH (a4fdd9762272): 5.15 to 6.4 warn and fall "
          "back instead",
          "[unit][profiles]")
{
    check_starts_at("iommu.fq_needs_deferred_flush_cap", "6.4.16", "6.5");
    CHECK_FALSE(decide("iommu.fq_needs_deferred_flush_cap", "6.1.192").present);
}

TEST_CASE("the boot lines lose their trailing space in v6.5 (32261d10943b)", "[unit][profiles]")
{
    check_starts_at("iommu.log_no_trailing_space", "6.4.16", "6.5");
    CHECK_FALSE(decide("iommu.log_no_trailing_space", "6.1.192").present);
}

TEST_CASE("the IOMMU core tracks a group's DMA owner from v5.19 (1ea2a07a532b); 5.18.19 does not",
          "[unit][profiles]")
{
    check_starts_at("iommu.dma_ownership", "5.18.19", "5.19");
    CHECK(decide("iommu.dma_ownership", "5.19").commit == "1ea2a07a532b0e22aabe7e8483f935c672b9e7ed");
}

TEST_CASE("devices get their IOMMU group when the IOMMU registers from v6.15 (bcb81ac6ae3c), at driver bind "
          "before",
          "[unit][profiles]")
{
    check_starts_at("iommu.fw_at_register", "6.14.11", "6.15");
    CHECK_FALSE(decide("iommu.fw_at_register", "6.12.117").present);
}

TEST_CASE("from v6.5 a device joining a group is attached once (0046a4337eae); 6.1.y keeps the double attach",
          "[unit][profiles]")
{
    check_starts_at("iommu.join_attaches_once", "6.4.16", "6.5");
    CHECK_FALSE(decide("iommu.join_attaches_once", "6.1.192").present);
}

TEST_CASE("from v7.0 a PCI reset of an ATS-capable device parks it on the blocking domain (c279e83953d9); "
          "6.19 does not",
          "[unit][profiles]")
{
    check_starts_at("iommu.pci_reset_blocking_domain", "6.19", "7.0");
    const auto d = decide("iommu.pci_reset_blocking_domain", "7.0");
    CHECK(d.commit == "c279e83953d937470f8a6e69b69f62608714f13f");
    CHECK_FALSE(decide("iommu.pci_reset_blocking_domain", "6.18").present);
}
