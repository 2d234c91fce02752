// fuzz-tool: the corpus side of the fuzz targets, run by scripts/fuzz.
//   fuzz-tool seeds OUT_DIR SCRIPT.txt...  writes seed inputs for the device targets and
//                                          fuzz-replay-script from request scripts (each with its
//                                          SCRIPT.args): OUT_DIR/<target>/<script name>
//   fuzz-tool snapshot-seeds OUT_DIR SCRIPT.txt...
//                                          writes fuzz-snapshot seeds: the device each script drives
//                                          saved at its end (OUT_DIR/fuzz-snapshot/<script name>) and
//                                          where it holds the most (<script name>-peak), each after
//                                          its device properties
//   fuzz-tool script INPUT [OUT_BASE]      prints a fuzz-requests / fuzz-differential input as
//                                          viommu-replay options and a request script; with OUT_BASE,
//                                          also writes OUT_BASE.args and OUT_BASE.txt
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <linux/virtio_iommu.h>

#include "system/machine/machine.h"
#include "guest-model/virtio-drivers/mmio_driver.h"
#include "hw/virtio-iommu/device.h"
#include "hw/virtio-iommu/pci.h"
#include "hw/virtio-iommu/snapshot.h"
#include "tests/fuzz/device_run.h"
#include "tests/fuzz/mmio_scenario.h"
#include "tests/fuzz/pci_scenario.h"
#include "tests/fuzz/ring_scenario.h"
#include "tests/fuzz/scenario.h"
#include "tests/fuzz/scenario_script.h"
#include "virtio/pci_transport.h"
#include "virtio/wire/pci_regs.h"
#include "virtio/wire/ring.h"

using namespace viommu;
using namespace viommu::fuzz;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const fs::path& path, std::span<const uint8_t> bytes)
{
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out)
        throw std::runtime_error("cannot write " + path.string());
}

void write_text(const fs::path& path, const std::string& text)
{
    write_file(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// The scenario's requests laid out as chains in fuzz-virtqueue's RAM, one published at a time: even ones
// as direct chains in the ring's table, odd ones through an indirect table.
RingScenario ring_seed(const Scenario& s)
{
    constexpr uint64_t kIn = RamLayout::kA + 0x3000;  // device-readable part
    constexpr uint64_t kOut = RamLayout::kA + 0x4000; // device-writable part (room for 8 KiB)
    constexpr uint64_t kTable = RamLayout::kB + 0x100;
    RingScenario r;
    r.layout = {16, RamLayout::kA, RamLayout::kA + 0x1000, RamLayout::kA + 0x2000, true, true};
    std::size_t n = 0;
    for (const Action& action : s.actions) {
        const auto* send = std::get_if<SendAction>(&action);
        if (!send)
            continue;
        for (const auto& req : send->requests) {
            std::vector<WriteDesc> descs;
            if (!req.empty())
                descs.push_back({0, 0, kIn, static_cast<uint32_t>(req.size()), 0, 0});
            if (send->writable)
                descs.push_back({0, 0, kOut, send->writable, virtio::wire::kDescFWrite, 0});
            if (descs.empty())
                continue;
            r.ops.push_back(WriteBytes{kIn, req});
            const bool indirect = n++ % 2;
            const uint16_t head = static_cast<uint16_t>((2 * n) % 16);
            for (std::size_t i = 0; i < descs.size(); ++i) {
                WriteDesc d = descs[i];
                d.table = indirect ? kTable : 0;
                d.index = static_cast<uint16_t>(indirect ? i : head + i);
                if (i + 1 < descs.size()) {
                    d.flags |= virtio::wire::kDescFNext;
                    d.next = static_cast<uint16_t>(d.index + 1);
                }
                r.ops.push_back(d);
            }
            if (indirect)
                r.ops.push_back(WriteDesc{0, head, kTable, static_cast<uint32_t>(16 * descs.size()),
                                          virtio::wire::kDescFIndirect, 0});
            r.ops.push_back(Publish{head});
        }
    }
    return r;
}

// Forwards a driver's register accesses to the transport and writes each one down.
class Recorder final : public MmioRegion {
public:
    Recorder(MmioRegion& inner, std::vector<MmioOp>& ops) : inner_(inner), ops_(ops) {}
    uint64_t read(uint64_t offset, unsigned size) override
    {
        ops_.push_back(RegRead{static_cast<uint32_t>(offset), size});
        return inner_.read(offset, size);
    }
    void write(uint64_t offset, unsigned size, uint64_t value) override
    {
        ops_.push_back(RegWrite{static_cast<uint32_t>(offset), size, value});
        inner_.write(offset, size, value);
    }

private:
    MmioRegion& inner_;
    std::vector<MmioOp>& ops_;
};

// Every byte of RAM that is not 0, in pieces a RamWrite can carry.
template <class Op>
void append_ram_writes(const virtio::GuestMemory& memory, std::vector<Op>& ops)
{
    std::vector<uint8_t> ram(kMmioRamSize);
    (void)memory.read(GuestAddr(kMmioRamBase), ram);
    for (uint32_t at = 0; at < ram.size();) {
        if (!ram[at]) {
            ++at;
            continue;
        }
        uint32_t end = at;
        while (end < ram.size() && end - at < 255 && ram[end])
            ++end;
        ops.push_back(RamWrite{at, {ram.begin() + at, ram.begin() + end}});
        at = end;
    }
}

// A Linux-like bring-up of a virtio-iommu as fuzz-mmio ops, then one ATTACH: the driver's ring and
// buffers as RAM writes, the notification, and a run of the device.
std::vector<MmioOp> mmio_seed()
{
    system::machine::Machine machine({kMmioRamBase, kMmioRamSize});
    machine.add_device<hw::virtio_iommu::VirtioIommu>(hw::virtio_iommu::IommuConfig{});
    std::vector<MmioOp> ops;
    Recorder recorder(*machine.slot(0).transport, ops);
    guest::virtio_drivers::MmioDeviceHandle handle = machine.handle(0);
    guest::virtio_drivers::VirtioMmioDriver driver({recorder, handle.irq, handle.memory, handle.allocator, handle.executor, handle.cpu});
    if (auto ok = driver.probe(); !ok)
        throw std::runtime_error(ok.error());
    driver.reset();
    driver.add_status(virtio::status::kAcknowledge | virtio::status::kDriver);
    if (auto ok = driver.finalize_features(driver.device_features()); !ok)
        throw std::runtime_error(ok.error());
    for (unsigned q = 0; q < 2; ++q)
        if (auto vq = driver.setup_vq(q, 16, nullptr); !vq)
            throw std::runtime_error(vq.error());
    driver.driver_ok();
    ops.push_back(RunDevice{});

    const auto request = request_bytes({VIRTIO_IOMMU_T_ATTACH, 1, 8});
    const auto in = machine.allocator().alloc(request.size());
    const auto out = machine.allocator().alloc(4);
    (void)machine.memory().write(*in, request);
    const guest::virtio_drivers::Buf outs[] = {{*in, static_cast<uint32_t>(request.size())}};
    const guest::virtio_drivers::Buf ins[] = {{*out, 4}};
    if (!driver.vq(0)->add(outs, ins, 1))
        throw std::runtime_error("cannot add the request");
    // Every byte the driver wrote so far.
    append_ram_writes(machine.memory(), ops);
    driver.kick(0);
    ops.push_back(RunDevice{});
    return ops;
}

// A request script with its SCRIPT.args (viommu-replay's options, one word a line), as a scenario.
Scenario scenario_of(const fs::path& script)
{
    fs::path args_path = script;
    args_path.replace_extension(".args");
    std::vector<std::string> args;
    if (fs::exists(args_path)) {
        std::istringstream lines(read_text(args_path));
        for (std::string line; std::getline(lines, line);)
            if (!line.empty())
                args.push_back(line);
    }
    auto scenario = scenario_from_script(read_text(script), args);
    if (!scenario)
        throw std::runtime_error(script.string() + ": " + scenario.error());
    return std::move(*scenario);
}

// A driver's bring-up of a virtio-iommu behind virtio-pci, as Linux's virtio_pci_modern does it (memory
// and bus master on, MSI-X vectors programmed and enabled, features, both queues, DRIVER_OK), then one
// ATTACH on the request queue: its ring and buffers as RAM writes, the notification, a run. There is no
// PCI driver model yet, so the accesses are written out here.
std::vector<PciOp> pci_seed()
{
    namespace pci = virtio::pci;
    namespace st = virtio::status;
    struct NoMsi final : MsiSink {
        void write(uint64_t, uint32_t) override {}
    } msi;
    IrqWire intx;
    boost::asio::io_context io;
    auto mem = virtio::GuestMemory::create({{GuestAddr(kMmioRamBase), kMmioRamSize}});
    if (!mem)
        throw std::runtime_error(mem.error());
    hw::virtio_iommu::VirtioIommu device(*mem, hw::virtio_iommu::IommuConfig{});
    virtio::PciTransport transport(device, io.get_executor(), hw::virtio_iommu::pci_identity(3), intx, msi);

    std::vector<PciOp> ops;
    const auto cfg_write = [&](uint32_t offset, unsigned width, uint32_t value) {
        ops.push_back(ConfigWrite{offset, width, value});
        transport.config_write(offset, width, value);
    };
    const auto bar_write = [&](unsigned bar, uint32_t offset, unsigned width, uint64_t value) {
        ops.push_back(BarWrite{bar, offset, width, value});
        transport.bar(bar)->write(offset, width, value);
    };
    const auto common_read = [&](uint32_t offset, unsigned width) {
        ops.push_back(BarRead{virtio::PciTransport::kModernBar, offset, width});
        return transport.bar(virtio::PciTransport::kModernBar)->read(offset, width);
    };
    const auto common_write = [&](uint32_t offset, unsigned width, uint64_t value) {
        bar_write(virtio::PciTransport::kModernBar, offset, width, value);
    };

    cfg_write(pci::kBar0 + 4 * virtio::PciTransport::kModernBar, 4, 0xfe000000);
    cfg_write(pci::kBar0 + 4 * virtio::PciTransport::kMsixBar, 4, 0xfe010000);
    cfg_write(pci::kCommand, 2, pci::kCommandMemory | pci::kCommandMaster);
    common_write(pci::kDeviceStatus, 1, 0);
    common_write(pci::kDeviceStatus, 1, st::kAcknowledge);
    common_write(pci::kDeviceStatus, 1, st::kAcknowledge | st::kDriver);
    for (uint32_t word = 0; word < 2; ++word) {
        common_write(pci::kDeviceFeatureSelect, 4, word);
        const uint64_t offered = common_read(pci::kDeviceFeature, 4);
        common_write(pci::kDriverFeatureSelect, 4, word);
        common_write(pci::kDriverFeature, 4, offered);
    }
    common_write(pci::kDeviceStatus, 1, st::kAcknowledge | st::kDriver | st::kFeaturesOk);
    (void)common_read(pci::kDeviceStatus, 1);
    // Vector 0 for configuration changes, 1 and 2 for the queues (vp_find_vqs_msix()).
    for (uint32_t v = 0; v < 3; ++v) {
        bar_write(virtio::PciTransport::kMsixBar, 16 * v + pci::kMsixEntryLowerAddr, 4, 0xfee00000 + 0x1000 * v);
        bar_write(virtio::PciTransport::kMsixBar, 16 * v + pci::kMsixEntryData, 4, 0x40 + v);
        bar_write(virtio::PciTransport::kMsixBar, 16 * v + pci::kMsixEntryVectorCtrl, 4, 0);
    }
    cfg_write(0x98 + pci::kMsixFlags, 2, pci::kMsixFlagsEnable);
    common_write(pci::kMsixConfig, 2, 0);
    constexpr uint16_t kSize = 16;
    for (uint16_t q = 0; q < 2; ++q) {
        const uint64_t base = kMmioRamBase + 0x1000 + 0x3000ull * q;
        common_write(pci::kQueueSelect, 2, q);
        common_write(pci::kQueueSize, 2, kSize);
        common_write(pci::kQueueMsixVector, 2, q + 1u);
        common_write(pci::kQueueDesc, 8, base);
        common_write(pci::kQueueDriver, 8, base + 0x1000);
        common_write(pci::kQueueDevice, 8, base + 0x2000);
        common_write(pci::kQueueEnable, 2, 1);
    }
    common_write(pci::kDeviceStatus, 1, st::kAcknowledge | st::kDriver | st::kFeaturesOk | st::kDriverOk);
    ops.push_back(RunDevice{});

    // ATTACH endpoint 8 to domain 1: the request at 0x8000, its status at 0x9000, descriptors 0 and 1.
    const auto request = request_bytes({VIRTIO_IOMMU_T_ATTACH, 1, 8});
    const uint64_t desc = kMmioRamBase + 0x1000;
    (void)mem->write(GuestAddr(kMmioRamBase + 0x8000), request);
    (void)mem->write_obj(GuestAddr(desc), virtio::wire::Desc{kMmioRamBase + 0x8000, static_cast<uint32_t>(request.size()),
                                                             virtio::wire::kDescFNext, 1});
    (void)mem->write_obj(GuestAddr(desc + 16), virtio::wire::Desc{kMmioRamBase + 0x9000, 4, virtio::wire::kDescFWrite, 0});
    (void)mem->write_obj(GuestAddr(desc + 0x1000 + 2), virtio::le16(1)); // avail.idx; ring[0] is head 0
    append_ram_writes(*mem, ops);
    bar_write(virtio::PciTransport::kModernBar, virtio::PciTransport::kNotifyOffset, 2, 0);
    ops.push_back(RunDevice{});
    return ops;
}

int seeds(const fs::path& out, const std::vector<fs::path>& scripts)
{
    for (const fs::path& script : scripts) {
        const Scenario scenario = scenario_of(script);
        const auto bytes = encode_scenario(scenario);
        if (!bytes)
            throw std::runtime_error(script.string() + ": " + bytes.error());
        const std::string name = script.stem().string();
        write_file(out / "fuzz-requests" / name, *bytes);
        write_file(out / "fuzz-differential" / name, *bytes);
        write_file(out / "fuzz-virtqueue" / name, encode_ring_scenario(ring_seed(scenario)));
        // fuzz-replay-script: the options as a device prefix, then the script's own text, comments included.
        ByteWriter replay_seed;
        if (auto ok = encode_device(replay_seed, scenario.device); !ok)
            throw std::runtime_error(script.string() + ": " + ok.error());
        const std::string text = read_text(script);
        replay_seed.bytes(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
        write_file(out / "fuzz-replay-script" / name, replay_seed.data());
    }
    write_file(out / "fuzz-mmio" / "bring-up-attach", encode_mmio_ops(mmio_seed()));
    write_file(out / "fuzz-pci" / "bring-up-attach", encode_pci_ops(pci_seed()));
    return 0;
}

// How much a device holds: its domains, attached endpoints and mappings.
std::size_t state_size(const hw::virtio_iommu::VirtioIommu& device)
{
    std::size_t n = device.domains().attached_count();
    for (const hw::virtio_iommu::VirtioIommuDomain* d : device.domains().all())
        n += 1 + d->mappings.size();
    return n;
}

// A fuzz-snapshot input: the device's properties, then its snapshot. A seed that fuzz-snapshot would
// refuse reaches no further than the refusal, so each is first restored as the target does.
std::vector<uint8_t> snapshot_seed(const DeviceChoice& device, const std::vector<uint8_t>& stream)
{
    FreshDevice fresh(device);
    if (auto ok = hw::virtio_iommu::Snapshot::restore(fresh.device, stream); !ok)
        throw std::runtime_error("a fresh device refuses the snapshot: " + ok.error());
    if (hw::virtio_iommu::Snapshot::save(fresh.device) != stream)
        throw std::runtime_error("the snapshot restored into a fresh device saves differently");
    ByteWriter seed;
    if (auto ok = encode_device(seed, device); !ok)
        throw std::runtime_error(ok.error());
    seed.bytes(stream);
    return seed.data();
}

int snapshot_seeds(const fs::path& out, const std::vector<fs::path>& scripts)
{
    for (const fs::path& script : scripts) {
        const Scenario scenario = scenario_of(script);
        DeviceRun run(scenario.device);
        std::vector<uint8_t> peak = hw::virtio_iommu::Snapshot::save(run.device());
        std::size_t peak_size = state_size(run.device());
        for (const Action& action : scenario.actions) {
            (void)run.apply(action);
            if (const std::size_t n = state_size(run.device()); n > peak_size) {
                peak = hw::virtio_iommu::Snapshot::save(run.device());
                peak_size = n;
            }
        }
        const std::vector<uint8_t> end = hw::virtio_iommu::Snapshot::save(run.device());
        const std::string name = script.stem().string();
        try {
            write_file(out / "fuzz-snapshot" / name, snapshot_seed(scenario.device, end));
            if (peak_size > state_size(run.device()))
                write_file(out / "fuzz-snapshot" / (name + "-peak"), snapshot_seed(scenario.device, peak));
        } catch (const std::runtime_error& e) {
            throw std::runtime_error(script.string() + ": " + e.what());
        }
    }
    return 0;
}

int script(const fs::path& input, const std::string& out_base)
{
    std::ifstream in(input, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + input.string());
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Scenario s = decode_scenario(bytes);
    std::string args;
    for (const std::string& a : replay_args(s.device))
        args += a + "\n";
    const std::string text = fmt::format("# {} as a request script (fuzz-tool script)\n{}", input.filename().string(),
                                         render_script(s));
    std::printf("%s%s", args.c_str(), text.c_str());
    if (!out_base.empty()) {
        write_text(out_base + ".args", args);
        write_text(out_base + ".txt", text);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::vector<std::string> a(argv + 1, argv + argc);
    try {
        if (a.size() >= 2 && a[0] == "seeds")
            return seeds(a[1], std::vector<fs::path>(a.begin() + 2, a.end()));
        if (a.size() >= 2 && a[0] == "snapshot-seeds")
            return snapshot_seeds(a[1], std::vector<fs::path>(a.begin() + 2, a.end()));
        if ((a.size() == 2 || a.size() == 3) && a[0] == "script")
            return script(a[1], a.size() == 3 ? a[2] : "");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz-tool: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: fuzz-tool seeds OUT_DIR SCRIPT.txt... | fuzz-tool snapshot-seeds OUT_DIR SCRIPT.txt... | "
                         "fuzz-tool script INPUT [OUT_BASE]\n");
    return 2;
}
