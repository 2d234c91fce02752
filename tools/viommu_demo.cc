// viommu-demo: the smallest end-to-end run of the virtio core. A guest's virtio-mmio driver finds a
// virtio-rng device, negotiates features, sets up its request queue in guest memory, and asks for
// entropy; the device fills the buffers on its executor and interrupts; the driver reaps them.
#include <cstdio>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "guest-model/mm/phys_alloc.h"
#include "guest-model/virtio/mmio_driver.h"
#include "hw/virtio-rng/virtio_rng.h"
#include "tools/common/cli.h"
#include "virtio/mmio_transport.h"

using namespace viommu;

int main(int argc, char** argv)
{
    CLI::App app{"viommu-demo: drive a virtio-rng device through the virtio core, as a guest would"};
    tools::CommonOptions common;
    tools::add_common_options(app, common);
    uint32_t requests = 4;
    uint32_t bytes = 16;
    uint64_t seed = 1;
    app.add_option("-n,--requests", requests, "Entropy requests to send")->check(CLI::Range(1u, 4096u));
    app.add_option("-b,--bytes", bytes, "Bytes per request")->check(CLI::Range(1u, 65536u));
    app.add_option("--seed", seed, "Seed of the device's generator");
    VIOMMU_PARSE(app, argc, argv);
    if (auto code = tools::apply_common_options(common))
        return *code;

    constexpr uint64_t kRamBase = 0x4000'0000;
    constexpr uint64_t kRamSize = 16ull << 20;
    auto mem = virtio::GuestMemory::create({{GuestAddr(kRamBase), kRamSize}});
    if (!mem) {
        std::fprintf(stderr, "error: %s\n", mem.error().c_str());
        return tools::kExitBadInput;
    }
    boost::asio::io_context io;
    guest::PhysAllocator alloc(GuestAddr(kRamBase), kRamSize);
    hw::VirtioRng rng(*mem, seed);
    IrqWire irq;
    virtio::MmioTransport transport(rng, io.get_executor(), irq);
    guest::VirtioMmioDriver driver(transport, *mem, alloc, io.get_executor());
    irq.connect(&driver);

    if (auto ok = driver.probe(); !ok) {
        std::fprintf(stderr, "virtio-mmio: %s\n", ok.error().c_str());
        return 1;
    }
    driver.reset();
    driver.add_status(virtio::status::kAcknowledge);
    driver.add_status(virtio::status::kDriver);
    const virtio::FeatureBits offered = driver.device_features();
    // virtio-rng has no feature bits of its own; take VERSION_1 and the ring features, as Linux does.
    const virtio::FeatureBits wanted = virtio::feature(virtio::kFVersion1) | virtio::feature(virtio::kFEventIdx) |
                                       virtio::feature(virtio::kFIndirectDesc);
    if (auto ok = driver.finalize_features(offered & wanted); !ok) {
        std::fprintf(stderr, "virtio-rng: %s\n", ok.error().c_str());
        return 1;
    }
    uint32_t completed = 0;
    auto vq = driver.setup_vq(0, 0, [&] {
        while (auto used = driver.vq(0)->get_buf()) {
            std::vector<uint8_t> data(used->len);
            (void)mem->read(GuestAddr(used->token), data);
            std::string hex;
            for (uint8_t b : data)
                hex += fmt::format("{:02x}", b);
            std::printf("request %u: %u bytes from the device: %s\n", ++completed, used->len, hex.c_str());
            alloc.free(GuestAddr(used->token), bytes);
        }
    });
    if (!vq) {
        std::fprintf(stderr, "virtio-rng: %s\n", vq.error().c_str());
        return 1;
    }
    driver.driver_ok();
    std::printf("virtio-mmio: device id %u (virtio-rng), features offered %#llx, negotiated %#llx, queue of %u\n",
                driver.device_id(), static_cast<unsigned long long>(offered),
                static_cast<unsigned long long>(driver.negotiated()), (*vq)->size());

    for (uint32_t i = 0; i < requests; ++i) {
        const auto buf = alloc.alloc(bytes);
        if (!buf) {
            std::fprintf(stderr, "out of guest memory\n");
            return 1;
        }
        const guest::Buf in{*buf, bytes};
        if (!(*vq)->add({}, std::span(&in, 1), buf->value())) {
            io.poll(); // let the device catch up, then retry once
            io.restart();
            if (!(*vq)->add({}, std::span(&in, 1), buf->value()))
                return 1;
        }
        driver.kick(0);
    }
    io.poll();
    std::printf("done: %u of %u requests completed, %llu bytes served, %llu interrupts, device status %#x\n",
                completed, requests, static_cast<unsigned long long>(rng.bytes_served()),
                static_cast<unsigned long long>(driver.interrupts_taken()), driver.status());
    return completed == requests ? 0 : 1;
}
