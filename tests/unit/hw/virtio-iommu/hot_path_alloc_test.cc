// The device's hot path does not allocate (docs/design.md, "Conventions"): once warm, request round
// trips (ATTACH, DETACH, MAP and UNMAP of an interval a leaf has room for, PROBE) and translations,
// faults included, make no heap allocation anywhere in the process. This executable replaces the global operator new to count.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include <linux/virtio_iommu.h>

#include "system/machine/machine.h"
#include "guest-model/virtio-iommu/prepared_client.h"
#include "hw/virtio-iommu/device.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}

// Every form of the unaligned operator new and delete is replaced as a set: a sanitizer that sees memory
// from its own operator new (say the nothrow form, which Catch2 uses) reach our free() reports a mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept
{
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n)
{
    if (void* p = operator new(n, std::nothrow))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }
// g++ sees free() on memory from "operator new" and cannot tell that this operator new is malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

using namespace viommu;

namespace {

// Requests through the prepared (non-allocating) client, one at a time.
struct Quiet {
    system::machine::Machine machine;
    hw::virtio_iommu::VirtioIommu& device;
    guest::virtio_iommu::PreparedClient client;

    explicit Quiet(hw::virtio_iommu::IommuConfig config)
        : device(machine.add_device<hw::virtio_iommu::VirtioIommu>(std::move(config))), client(machine.handle(0), 1)
    {
        REQUIRE(client.bring_up());
    }
    uint8_t send(const guest::virtio_iommu::req::Encoded& r)
    {
        client.stage(0, r);
        return client.submit(1) ? client.status(0) : 0xfe;
    }
    uint8_t attach(uint32_t domain, uint32_t endpoint)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Attach{.domain = domain, .endpoint = endpoint}));
    }
    uint8_t detach(uint32_t domain, uint32_t endpoint)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Detach{.domain = domain, .endpoint = endpoint}));
    }
    uint8_t map(uint64_t iova)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Map{.domain = 1,
                                                       .virt_start = iova,
                                                       .virt_end = iova + 0xfff,
                                                       .phys_start = 0x40000000,
                                                       .flags = VIRTIO_IOMMU_MAP_F_READ}));
    }
    uint8_t unmap(uint64_t iova)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Unmap{.domain = 1, .virt_start = iova, .virt_end = iova + 0xfff}));
    }
    uint8_t probe(uint32_t endpoint)
    {
        return send(guest::virtio_iommu::req::encode(guest::virtio_iommu::req::Probe{.endpoint = endpoint, .probe_size = 512}));
    }
};

} // namespace

TEST_CASE("warm request round trips and translations allocate nothing", "[unit][virtio-iommu][hot-path]")
{
    hw::virtio_iommu::IommuConfig config;
    config.reserved = {hw::virtio_iommu::x86_msi_region()};
    Quiet d(config);
    // Domain 1 stays alive through endpoint 8 and keeps a mapping, so the loop neither creates nor
    // destroys domains or tree nodes (those allocate, within the device's limits).
    REQUIRE(d.attach(1, 8) == VIRTIO_IOMMU_S_OK);
    REQUIRE(d.map(0x100000) == VIRTIO_IOMMU_S_OK);
    d.device.config_write(offsetof(virtio_iommu_config, bypass), 1, 0);

    auto round = [&] {
        REQUIRE(d.attach(1, 0x10) == VIRTIO_IOMMU_S_OK);
        REQUIRE(d.map(0x2000) == VIRTIO_IOMMU_S_OK);
        REQUIRE(d.device.translate(hw::virtio_iommu::EndpointId(0x10), Iova(0x2010), hw::virtio_iommu::Access::kRead).ok);
        REQUIRE_FALSE(d.device.translate(hw::virtio_iommu::EndpointId(0x10), Iova(0x2010), hw::virtio_iommu::Access::kWrite).ok); // a fault report
        REQUIRE_FALSE(d.device.translate(hw::virtio_iommu::EndpointId(0x11), Iova(0x9000), hw::virtio_iommu::Access::kRead).ok);  // DOMAIN fault
        REQUIRE(d.unmap(0x2000) == VIRTIO_IOMMU_S_OK);
        REQUIRE(d.unmap(0x7000000) == VIRTIO_IOMMU_S_OK); // nothing there
        REQUIRE(d.probe(8) == VIRTIO_IOMMU_S_OK);
        REQUIRE(d.detach(1, 0x10) == VIRTIO_IOMMU_S_OK);
    };
    for (int i = 0; i < 100; ++i)
        round(); // warm: asio's handler memory, the attached-node spare list, the event ring
    const uint64_t before = g_allocations.load();
    for (int i = 0; i < 10000; ++i)
        round();
    CHECK(g_allocations.load() - before == 0);
    CHECK(d.client.faults_seen() >= 20000);
    CHECK(d.device.stats().faults_dropped == 0);
}
