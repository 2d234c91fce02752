// The modelled latency of an I/O: its events per I/O, each times its cost; with the I/O's own latency
// when the table gives it, and the ratio against no IOMMU.
#include <catch2/catch.hpp>

#include "system/workload/report_format.h"

using namespace viommu::system::workload;

namespace {
EndpointResult endpoint()
{
    EndpointResult e;
    e.bdf = "0000:00:05.0";
    e.driver = "virtio_blk";
    e.mode = Mode::kLazy;
    e.domain = "DMA-FQ";
    e.ios = 256;
    // Per I/O: 4 maps, 4 unmaps, 4 MAPs, 4 UNMAPs, 4.015625 kicks and syncs, 0.015625 flushes.
    e.events = {1024, 1024, 1024, 1024, 1028, 1028, 4, 2048};
    return e;
}

Report report(const CostTable& costs, bool from_file)
{
    Report r;
    r.pattern = "disk-4k-randread";
    r.costs = costs;
    r.costs_from_file = from_file;
    r.endpoints.push_back(endpoint());
    return r;
}
} // namespace

TEST_CASE("The modelled latency is the sum of each event per I/O times its cost")
{
    CostTable c;
    c.kick_ns = 1000;
    c.sync_ns = 100;
    c.map_request_ns = 10;
    c.unmap_request_ns = 20;
    c.iotlb_flush_ns = 2560;
    c.dma_call_ns = 1;
    CHECK(endpoint().added_ns(c) == Approx(8 * 1 + 4 * 10 + 4 * 20 + 4.015625 * 1100 + 0.015625 * 2560));
}

TEST_CASE("Without the I/O's own latency the report gives what the IOMMU adds and no ratio")
{
    const Report r = report(CostTable{}, false);
    const auto j = to_json(r);
    CHECK(j["endpoints"][0]["ratio"].is_null());
    CHECK(j["endpoints"][0]["latency_ns"] == j["endpoints"][0]["added_ns"]);
    // 4.015625 kicks x 31.8 us, and 8 requests x 2 us.
    CHECK(render_text(r).find("+143.7 us") != std::string::npos);
}

TEST_CASE("With the I/O's own latency the report gives the total and the ratio against no IOMMU")
{
    CostTable c;
    c.kick_ns = 10000;
    c.map_request_ns = c.unmap_request_ns = 0;
    c.io_ns["disk-4k-randread"] = 40150;
    const Report r = report(c, true);
    const auto j = to_json(r);
    CHECK(j["endpoints"][0]["ratio"].get<double>() == Approx((40150 + 40156.25) / 40150));
    CHECK(j["costs"]["source"] == "file");
    CHECK(render_text(r).find("80.3 us (x2.00)") != std::string::npos);
}

TEST_CASE("Events per I/O are the run's counts over its I/Os")
{
    const EndpointResult e = endpoint();
    CHECK(e.per_io(e.events.kicks) == 4.015625);
    CHECK(e.per_io(e.events.iotlb_flushes) == 0.015625);
    EndpointResult none;
    CHECK(none.per_io(5) == 0);
}
