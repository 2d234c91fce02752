// system/truth/trace_requests.h: QEMU 7.2's virtio-iommu trace and viommu's read into the same counts.
#include <catch2/catch.hpp>

#include "system/truth/trace_requests.h"

using namespace viommu::system::truth;

namespace {

const EndpointRequests* find(const TraceRequests& r, uint32_t endpoint)
{
    for (const EndpointRequests& e : r.endpoints)
        if (e.endpoint == endpoint)
            return &e;
    return nullptr;
}

} // namespace

TEST_CASE("a PROBE shows in QEMU 7.2's trace only as the reserved region it fills", "[unit][truth]")
{
    const auto r = trace_requests("virtio_iommu_fill_resv_property dev= 16, type=1 start=0xfee00000 end=0xfeefffff\n"
                                  "virtio_iommu_attach domain=0 endpoint=16\n"
                                  "virtio_iommu_fill_resv_property dev= 17, type=1 start=0xfee00000 end=0xfeefffff\n");
    REQUIRE(find(r, 16));
    CHECK(find(r, 16)->probes == 1);
    CHECK(find(r, 16)->attaches == 1);
    CHECK(find(r, 17)->probes == 1);
}

TEST_CASE("viommu's PROBE counts only when the device answered OK, as QEMU traces only those", "[unit][truth]")
{
    const auto r = trace_requests("virtio_iommu_probe endpoint=16\n"
                                  "virtio_iommu_request_done type=5 status=OK\n"
                                  "virtio_iommu_probe endpoint=1288\n"
                                  "virtio_iommu_request_done type=5 status=NOENT\n");
    CHECK(find(r, 16)->probes == 1);
    CHECK(find(r, 1288) == nullptr);
}

TEST_CASE("a MAP counts for every endpoint attached to its domain at the time", "[unit][truth]")
{
    const auto r = trace_requests("virtio_iommu_attach domain=8 endpoint=248\n"
                                  "virtio_iommu_attach domain=8 endpoint=250\n"
                                  "virtio_iommu_map domain=8 virt_start=0x1000 virt_end=0x1fff phys_start=0x5000 flags=3\n"
                                  "virtio_iommu_attach domain=8 endpoint=251\n"
                                  "virtio_iommu_unmap domain=8 virt_start=0x1000 virt_end=0x1fff\n");
    CHECK(find(r, 248)->maps == 1);
    CHECK(find(r, 250)->maps == 1);
    CHECK(find(r, 251)->maps == 0);
    CHECK(find(r, 251)->unmaps == 1);
}

TEST_CASE("an endpoint attached to another domain leaves its old one", "[unit][truth]")
{
    const auto r = trace_requests("virtio_iommu_attach domain=9 endpoint=768\n"
                                  "virtio_iommu_attach domain=10 endpoint=768\n"
                                  "virtio_iommu_map domain=9 virt_start=0x1000 virt_end=0x1fff phys_start=0x5000 flags=3\n");
    CHECK(find(r, 768)->attaches == 2);
    CHECK(find(r, 768)->maps == 0);
}

TEST_CASE("the attach order is the order of each endpoint's first ATTACH", "[unit][truth]")
{
    const auto r = trace_requests("12345@1.5:virtio_iommu_attach domain=0 endpoint=16\n"
                                  "virtio_iommu_attach domain=1 endpoint=0\n"
                                  "virtio_iommu_attach domain=2 endpoint=16 bypass=false\n");
    CHECK(r.attach_order == std::vector<uint32_t>{16, 0});
}

TEST_CASE("a fault the device reports counts for its endpoint", "[unit][truth]")
{
    const auto qemu = trace_requests("virtio_iommu_report_fault FAULT reason=1 flags=0 endpoint=250 address =0x1000\n");
    const auto ours = trace_requests("virtio_iommu_report_fault reason=1 flags=0x0 endpoint=250 address=0x1000\n");
    CHECK(find(qemu, 250)->faults == 1);
    CHECK(find(ours, 250)->faults == 1);
}
