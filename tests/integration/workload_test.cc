// `--workload`: an I/O pattern through a known guest's endpoints, its events counted on the guest's
// virtio-iommu driver, dma-iommu and the device. The guest: virtio-net at 00:04.0 and virtio-blk at
// 00:05.0 with iommu_platform, an e1000e at 00:06.0, a virtio-blk without iommu_platform at 00:07.0 and
// q35's AHCI at 00:1f.2. Each I/O's counts follow from the driver's DMA API calls (system/workload/
// pattern.cc) and the kernel's rules: a strict unmap syncs at once, a lazy one waits in the flush queue
// (255 IOVAs) and its UNMAP goes out with the next kick, and from 6.8 (00271ca5cbcd) the MAPs of one
// iommu_map_sg() share one sync.
#include <catch2/catch.hpp>

#include "system/boot/guest.h"
#include "system/boot/report_format.h"
#include "tests/support/guest_specs.h"

using namespace viommu;
using namespace viommu::system;
using namespace viommu::system::boot;
using viommu::test::SpecBuilder;
using workload::Mode;

namespace {

enum class Cmdline { kDefault, kStrict, kPassthrough };

SpecBuilder known_guest()
{
    SpecBuilder b;
    b.add("virtio-net", guest::pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    b.add("virtio-blk", guest::pci::Kind::kEndpoint, Role::kVirtioBlk, 5);
    b.nic(6, -1, "e1000e");
    b.add("virtio-blk (no iommu_platform)", guest::pci::Kind::kEndpoint, Role::kVirtioBlk, 7, -1, 0, "", false);
    b.add("ich9-ahci", guest::pci::Kind::kEndpoint, Role::kEmulated, 0x1f, -1, 2, "ahci");
    return b;
}

workload::Report run(const std::string& pattern, const std::string& kernel, Cmdline cmdline = Cmdline::kDefault,
                     SpecBuilder b = known_guest())
{
    if (cmdline == Cmdline::kStrict)
        b.spec().cmdline.strict = true;
    if (cmdline == Cmdline::kPassthrough)
        b.spec().cmdline.passthrough = true;
    auto profile = guest::profiles::Profile::load(kernel);
    REQUIRE(profile);
    BootOptions options;
    options.workload = workload::Request{workload::find_pattern(pattern), {}, false};
    REQUIRE(options.workload->pattern);
    const GuestReport r = boot_guest(b.spec(), *profile, options);
    REQUIRE(r.workload);
    return *r.workload;
}

const workload::EndpointResult& endpoint(const workload::Report& r, const std::string& bdf)
{
    for (const auto& e : r.endpoints)
        if (e.bdf == bdf)
            return e;
    FAIL("no endpoint " << bdf << " in the workload report");
    return r.endpoints.front();
}

// The events of one I/O, averaged over the run.
struct PerIo {
    double dma_maps, map, unmap, kicks, syncs, flushes;
};

PerIo per_io(const workload::EndpointResult& e)
{
    const workload::Events& v = e.events;
    return {e.per_io(v.dma_maps), e.per_io(v.map_requests), e.per_io(v.unmap_requests),
            e.per_io(v.kicks),    e.per_io(v.syncs),        e.per_io(v.iotlb_flushes)};
}

void check(const workload::EndpointResult& e, Mode mode, PerIo want)
{
    INFO(e.bdf << " " << e.driver << " " << workload::mode_name(e.mode) << " " << e.error);
    CHECK(e.error.empty());
    CHECK(e.ios == 255);
    CHECK(e.mode == mode);
    const PerIo got = per_io(e);
    CHECK(got.dma_maps == Approx(want.dma_maps).margin(1e-12));
    CHECK(got.map == Approx(want.map).margin(1e-12));
    CHECK(got.unmap == Approx(want.unmap).margin(1e-12));
    CHECK(got.kicks == Approx(want.kicks).margin(1e-12));
    CHECK(got.syncs == Approx(want.syncs).margin(1e-12));
    CHECK(got.flushes == Approx(want.flushes).margin(1e-12));
}

constexpr const char* kVirtioNet = "0000:00:04.0";
constexpr const char* kVirtioBlk = "0000:00:05.0";
constexpr const char* kE1000e = "0000:00:06.0";
constexpr const char* kVirtioBlkNoPlatform = "0000:00:07.0";
constexpr const char* kAhci = "0000:00:1f.2";

} // namespace

TEST_CASE("Strict (iommu.strict=1): each of a 4 KiB virtio-blk read's four maps and four unmaps waits for the device")
{
    // Header, data page, status byte and the indirect table: a MAP each, synced by iotlb_sync_map; an
    // UNMAP each, synced by iotlb_sync.
    check(endpoint(run("disk-4k-randread", "debian-12-6.12", Cmdline::kStrict), kVirtioBlk), Mode::kStrict,
          {4, 4, 4, 8, 8, 4});
}

TEST_CASE("Lazy (DMA-FQ, 6.8+): UNMAPs go out with the next map's kick, and one flush per 255 unmapped IOVAs")
{
    // Four kicks for the four MAPs; the flush queue is full every 255 unmaps, and its flush_iotlb_all()
    // kicks once for the UNMAPs still queued.
    check(endpoint(run("disk-4k-randread", "debian-12-6.12"), kVirtioBlk), Mode::kLazy,
          {4, 4, 4, 4 + 4.0 / 255, 4 + 4.0 / 255, 4.0 / 255});
}

TEST_CASE("Passthrough (iommu.passthrough=1): the DMA API maps through dma-direct and sends nothing")
{
    check(endpoint(run("disk-4k-randread", "debian-12-6.12", Cmdline::kPassthrough), kVirtioBlk), Mode::kPassthrough,
          {4, 0, 0, 0, 0, 0});
}

TEST_CASE("Before 6.8 the virtio-iommu cannot defer flushes: a lazy policy still gets a strict DMA domain")
{
    // 6.6: no IOMMU_CAP_DEFERRED_FLUSH (6f01a732608f came in 6.8), so the DMA-FQ default falls back to DMA.
    const workload::Report r = run("disk-4k-randread", "6.6");
    const auto& e = endpoint(r, kVirtioBlk);
    check(e, Mode::kStrict, {4, 4, 4, 8, 8, 4});
    CHECK(e.domain == "DMA");
}

TEST_CASE("From 6.8 the MAPs of one dma_map_sg() share one sync; before, each MAP waited (00271ca5cbcd)")
{
    // AHCI's 64 KiB read: 16 discontiguous pages, one scatterlist: 16 MAPs either way, one UNMAP of the
    // whole IOVA range.
    check(endpoint(run("disk-64k-seqread", "debian-12-6.12", Cmdline::kStrict), kAhci), Mode::kStrict,
          {1, 16, 1, 2, 2, 1});
    check(endpoint(run("disk-64k-seqread", "6.6", Cmdline::kStrict), kAhci), Mode::kStrict, {1, 16, 1, 17, 17, 1});
}

TEST_CASE("virtio_ring maps every scatterlist entry on its own: batching changes nothing for virtio-blk")
{
    // Header, 16 data pages, status and the indirect table: 19 dma_map_page() calls, each synced.
    const PerIo want{19, 19, 19, 38, 38, 19};
    check(endpoint(run("disk-64k-seqread", "debian-12-6.12", Cmdline::kStrict), kVirtioBlk), Mode::kStrict, want);
    check(endpoint(run("disk-64k-seqread", "6.6", Cmdline::kStrict), kVirtioBlk), Mode::kStrict, want);
}

TEST_CASE("A 1500-byte frame costs one MAP and one UNMAP on virtio-net and on an e1000e")
{
    const workload::Report r = run("net-1500", "debian-12-6.12");
    const PerIo lazy{1, 1, 1, 1 + 1.0 / 255, 1 + 1.0 / 255, 1.0 / 255};
    check(endpoint(r, kVirtioNet), Mode::kLazy, lazy);
    check(endpoint(r, kE1000e), Mode::kLazy, lazy);
}

TEST_CASE("A 64 KiB TSO send maps its headers and each 32 KiB fragment, and virtio-net its indirect table too")
{
    const workload::Report r = run("net-64k", "debian-12-6.12", Cmdline::kStrict);
    check(endpoint(r, kVirtioNet), Mode::kStrict, {4, 4, 4, 8, 8, 4});
    check(endpoint(r, kE1000e), Mode::kStrict, {3, 3, 3, 6, 6, 3});
}

TEST_CASE("A disk pattern runs on the disks only, a NIC pattern on the NICs only")
{
    std::vector<std::string> disks, nics;
    for (const auto& e : run("disk-4k-randread", "debian-12-6.12").endpoints)
        disks.push_back(e.bdf);
    for (const auto& e : run("net-1500", "debian-12-6.12").endpoints)
        nics.push_back(e.bdf);
    CHECK(disks == std::vector<std::string>{kVirtioBlk, kVirtioBlkNoPlatform, kAhci});
    CHECK(nics == std::vector<std::string>{kVirtioNet, kE1000e});
}

TEST_CASE("A virtio device without iommu_platform bypasses the DMA API: no call, no request")
{
    check(endpoint(run("disk-4k-randread", "debian-12-6.12"), kVirtioBlkNoPlatform), Mode::kNoDmaApi,
          {0, 0, 0, 0, 0, 0});
}

TEST_CASE("The device handles every request the driver counts, and the endpoint's DMA lands")
{
    for (const char* pattern : {"disk-4k-randread", "disk-64k-seqread", "net-1500", "net-64k"})
        for (const Cmdline c : {Cmdline::kDefault, Cmdline::kStrict})
            for (const auto& e : run(pattern, "debian-12-6.12", c).endpoints) {
                INFO(pattern << " " << e.bdf);
                CHECK(e.error.empty());
                CHECK(e.events.device_requests == e.events.map_requests + e.events.unmap_requests);
            }
}

TEST_CASE("A device given to VFIO is not run: its DMA is the user's, not a kernel driver's")
{
    SpecBuilder b = known_guest();
    b.hostdev(8, -1, guest::pci::Kind::kEndpoint, "e1000e");
    const workload::Report r = run("net-1500", "debian-12-6.12", Cmdline::kDefault, b);
    REQUIRE(r.skipped.size() == 1);
    CHECK(r.skipped[0].first == "0000:00:08.0");
    CHECK(r.skipped[0].second == "bound to vfio-pci, not e1000e");
}

TEST_CASE("Without a workload the report has none, and its JSON no workload key")
{
    auto profile = guest::profiles::Profile::load("debian-12-6.12");
    REQUIRE(profile);
    const GuestReport r = boot_guest(known_guest().spec(), *profile);
    CHECK_FALSE(r.workload);
    CHECK(render_json(r).find("\"workload\"") == std::string::npos);
    CHECK(render_table(r).find("workload") == std::string::npos);
}
