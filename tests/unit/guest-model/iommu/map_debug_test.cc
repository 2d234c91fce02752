// iommu_map()/iommu_unmap() log what drivers/iommu/iommu.c's __iommu_map()/__iommu_unmap() pr_debug()
// (pr_fmt "iommu: ", the same formats in v6.1 and v6.12) when dynamic debug is on, and nothing when off.
#include <catch2/catch.hpp>

#include "guest-model/iommu/dma_api.h"
#include "tests/support/fake_iommu_driver.h"

using namespace viommu::guest;
using namespace viommu::guest::iommu;

namespace {

using PageDriver = viommu::test::FakeIommuDriver;

std::vector<std::string> texts(const kernel::KernelLog& log)
{
    std::vector<std::string> out;
    for (const kernel::LogRecord& r : log.records())
        out.push_back(r.text);
    return out;
}

} // namespace

TEST_CASE("With dynamic debug, iommu_map() and iommu_unmap() log __iommu_map()'s and __iommu_unmap()'s pr_debug lines",
          "[unit][iommu][dyndbg]")
{
    kernel::VirtualClock clock;
    kernel::KernelLog log(clock);
    PageDriver drv;
    Domain domain(DomainType::kDma);
    // 4 KiB up to the 2 MiB boundary, then one 2 MiB page.
    REQUIRE(iommu_map(log, drv, domain, 0x1ff000, 0x401ff000, 0x201000, prot::kRead) == 0);
    CHECK(iommu_unmap(log, drv, domain, 0x1ff000, 0x201000) == 0x201000);
    CHECK(texts(log) == std::vector<std::string>{
                            "iommu: map: iova 0x1ff000 pa 0x00000000401ff000 size 0x201000",
                            "iommu: mapping: iova 0x1ff000 pa 0x00000000401ff000 pgsize 0x1000 count 1",
                            "iommu: mapping: iova 0x200000 pa 0x0000000040200000 pgsize 0x200000 count 1",
                            "iommu: unmap this: iova 0x1ff000 size 0x201000",
                            "iommu: unmapped: iova 0x1ff000 size 0x1000",
                            "iommu: unmapped: iova 0x200000 size 0x200000",
                        });
}

TEST_CASE("Without dynamic debug, iommu_map() and iommu_unmap() log nothing", "[unit][iommu][dyndbg]")
{
    kernel::VirtualClock clock;
    kernel::KernelLog log(clock);
    log.set_dynamic_debug(false);
    PageDriver drv;
    Domain domain(DomainType::kDma);
    REQUIRE(iommu_map(log, drv, domain, 0x1000, 0x40001000, 0x1000, prot::kRead) == 0);
    CHECK(iommu_unmap(log, drv, domain, 0x1000, 0x1000) == 0x1000);
    CHECK(log.records().empty());
}
