// Whole guests through the whole stack: hardware (a virtio-iommu, endpoints that DMA), the guest kernel
// of a profile, and the VFIO gate. The expectations of the first cases are what a real Debian 6.12.117
// guest did on QEMU 7.2 q35 with the same topology (groups, faults, VFIO errors).
#include <catch2/catch.hpp>

#include <cctype>

#include <fmt/format.h>
#include <linux/virtio_iommu.h>

#include "system/boot/guest.h"
#include "system/boot/report_format.h"
#include "guest-model/kernel/errno.h"
#include "tests/support/configured_profile.h"
#include "tests/support/boot_reports.h"
#include "tests/support/guest_specs.h"

using namespace viommu;
using namespace viommu::guest;
using namespace viommu::guest::profiles;
using namespace viommu::guest::kernel;
using namespace viommu::system::boot;
using namespace viommu::guest;
using viommu::test::device;
using viommu::test::SpecBuilder;
using viommu::test::with_iommufd;

namespace {

Profile profile(const std::string& name)
{
    auto p = Profile::load(name);
    REQUIRE(p);
    return *p;
}

// The guest b describes with a VFIO hostdev at 00:06.0, booted under kernel.
GuestReport boot_with_hostdev(SpecBuilder b, const std::string& kernel)
{
    b.hostdev(6);
    return boot_guest(b.spec(), profile(kernel));
}

bool logged(const GuestReport& r, const std::string& text)
{
    return r.dmesg.find(text) != std::string::npos;
}

// The topology of the real guest run (research run 2): virtio-iommu at 00:03.0, virtio-net and
// virtio-blk with iommu_platform, an e1000e integrated endpoint, a pcie-pci-bridge with two e1000,
// a root port with a pcie-pci-bridge below it (libvirt's layout), a root port with an e1000e, and a
// conventional pci-bridge with an e1000.
SpecBuilder real_run_topology()
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    b.add("virtio-blk", pci::Kind::kEndpoint, Role::kVirtioBlk, 5);
    b.nic(6, -1, "e1000e");
    const int br1 = b.add("pcie-pci-bridge", pci::Kind::kPcieToPciBridge, Role::kBridge, 7);
    b.nic(1, br1);
    b.nic(2, br1);
    const int rp1 = b.add("pcie-root-port", pci::Kind::kRootPort, Role::kBridge, 8);
    const int br2 = b.add("pcie-pci-bridge", pci::Kind::kPcieToPciBridge, Role::kBridge, 0, rp1);
    b.nic(1, br2);
    const int rp2 = b.add("pcie-root-port", pci::Kind::kRootPort, Role::kBridge, 9);
    b.nic(0, rp2, "e1000e", pci::Kind::kPcieEndpoint);
    const int pb = b.add("pci-bridge", pci::Kind::kPciBridge, Role::kBridge, 11);
    b.nic(1, pb);
    return b;
}

} // namespace

TEST_CASE("Groups are made in deferred-probe order once virtio_iommu loads, as in the real 6.12 guest",
          "[boot][groups]")
{
    const GuestReport r = boot_guest(real_run_topology().spec(), profile("debian-12-6.12"));
    // The real guest: 00:07.0=0 00:08.0=1 00:09.0=2 00:0b.0=3 02:00.0=4 00:04.0=5 00:05.0=6 00:00.0=7.
    CHECK(device(r, "0000:00:07.0").group == 0);
    CHECK(device(r, "0000:00:08.0").group == 1);
    CHECK(device(r, "0000:00:09.0").group == 2);
    CHECK(device(r, "0000:00:0b.0").group == 3);
    CHECK(device(r, "0000:02:00.0").group == 4);
    CHECK(device(r, "0000:00:04.0").group == 5);
    CHECK(device(r, "0000:00:05.0").group == 6);
    CHECK(device(r, "0000:00:00.0").group == 7);
    CHECK_FALSE(device(r, "0000:00:03.0").group); // the IOMMU itself
    CHECK(device(r, "0000:00:04.0").domain == "DMA-FQ");
    CHECK(device(r, "0000:00:04.0").deferrals >= 1);
    CHECK(device(r, "0000:00:08.0").driver == "pcieport");
    CHECK(device(r, "0000:00:07.0").driver.empty()); // pcieport: -ENODEV for a PCIe-to-PCI bridge
    CHECK(device(r, "0000:00:04.0").driver == "virtio-pci/virtio_net");
    CHECK(logged(r, "virtio_iommu virtio0: input address: 64 bits"));
    CHECK(logged(r, "virtio_iommu virtio0: page mask: 0xfffffffffffff000"));
    CHECK(logged(r, "iommu: Default domain type: Translated\n"));
    CHECK(logged(r, "iommu: DMA domain TLB invalidation policy: lazy mode\n"));
    CHECK(logged(r, "pcieport 0000:00:08.0: Adding to iommu group 1"));
}

namespace {
// 6.12 with virtio_iommu built in, and e1000e built in or a module.
Profile builtin_iommu(const char* e1000e)
{
    auto p = Profile::from_json(fmt::format(R"({{"name": "iommu-y", "version": "6.12", "config": {{"CONFIG_VIRTIO_IOMMU": "y", "CONFIG_E1000E": "{}"}}}})",
                                            e1000e),
                                "test");
    INFO((p ? std::string() : p.error()));
    REQUIRE(p);
    return *p;
}
} // namespace

TEST_CASE("Group numbers follow the config: a built-in driver binds at device_initcall, a module's later",
          "[boot][groups]")
{
    // virtio_iommu=y is up at device_initcall, but deferred probing starts only at late_initcall: a
    // built-in e1000e (drivers/net, after drivers/iommu) gets the first group for its NIC at 00:06.0,
    // ahead of the bridges that deferred; as a module it comes after all of them.
    const GuestReport builtin = boot_guest(real_run_topology().spec(), builtin_iommu("y"));
    const GuestReport module = boot_guest(real_run_topology().spec(), builtin_iommu("m"));
    CHECK(device(builtin, "0000:00:06.0").group == 0);
    CHECK(device(module, "0000:00:07.0").group == 0);
    CHECK(device(module, "0000:00:06.0").group > device(module, "0000:00:00.0").group);
    CHECK(device(builtin, "0000:00:06.0").driver == "e1000e");
    CHECK(device(module, "0000:00:06.0").driver == "e1000e");
}

TEST_CASE("A device behind a PCIe-to-PCI bridge gets no group: Linux PROBEs its own requester ID", "[boot][bridge]")
{
    const GuestReport r = boot_guest(real_run_topology().spec(), profile("debian-12-6.12"));
    const DeviceReport& d = device(r, "0000:01:01.0");
    CHECK_FALSE(d.group);
    CHECK(d.driver == "e1000");
    CHECK(d.linux_ids == std::vector<uint32_t>{0x108, 0x100});
    CHECK(d.qemu_endpoint == 0x100);
    CHECK(d.no_group_reason.find("PROBEs its own requester ID 0x0108") != std::string::npos);
    // QEMU's endpoint 0x100 is attached to nothing and boot-bypass lets its DMA through untranslated.
    CHECK(d.dma.result == DmaResult::kBypassed);
    CHECK(device(r, "0000:03:01.0").qemu_endpoint == 0x300);
}

TEST_CASE("A device behind a conventional PCI bridge faults in the bridge's domain", "[boot][bridge][fault]")
{
    const GuestReport r = boot_guest(real_run_topology().spec(), profile("debian-12-6.12"));
    const DeviceReport& d = device(r, "0000:05:01.0");
    CHECK_FALSE(d.group);
    CHECK(d.qemu_endpoint == 0x58); // the bridge's own ID
    REQUIRE(d.dma.result == DmaResult::kFault);
    // The guest's fault handler, as the real guest printed it ("[]": QEMU 7.2 sets only F_ADDRESS).
    CHECK(logged(r, "virtio_iommu virtio0: page fault from EP 88 at 0x"));
    CHECK(r.iommu.faults >= 1);
}

TEST_CASE("Endpoint DMA through a DMA domain lands at the mapped guest-physical bytes", "[boot][dma]")
{
    const GuestReport r = boot_guest(real_run_topology().spec(), profile("debian-12-6.12"));
    CHECK(device(r, "0000:00:04.0").dma.result == DmaResult::kTranslated);
    CHECK(device(r, "0000:00:05.0").dma.result == DmaResult::kTranslated);
    CHECK(device(r, "0000:04:00.0").dma.result == DmaResult::kTranslated);
    // The IOVA allocator works down from below 4 GiB, as the real guest's first MAP (0xffff_e000).
    CHECK(device(r, "0000:00:04.0").dma.detail.find("IOVA 0xfff") == 0);
}

TEST_CASE("PROBE's reserved MSI region becomes the group's reserved region, as sysfs shows it",
          "[boot][probe]")
{
    const GuestReport r = boot_guest(real_run_topology().spec(), profile("debian-12-6.12"));
    // What the real guest's /sys/kernel/iommu_groups/*/reserved_regions showed.
    CHECK(device(r, "0000:00:04.0").reserved_regions ==
          std::vector<std::string>{"0x00000000fee00000 0x00000000feefffff msi"});
}

TEST_CASE("A virtio device without iommu_platform reaches memory directly", "[boot][dma]")
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4, -1, 0, "", false);
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    const DeviceReport& d = device(r, "0000:00:04.0");
    CHECK(d.group); // the PCI function is still behind the IOMMU for Linux
    CHECK(d.dma.result == DmaResult::kDirect);
}

TEST_CASE("iommu.passthrough=1 gives every group an identity domain attached with ATTACH_F_BYPASS", "[boot][identity]")
{
    SpecBuilder b = real_run_topology();
    b.spec().cmdline.passthrough = true;
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    CHECK(logged(r, "iommu: Default domain type: Passthrough (set via kernel command line)"));
    CHECK(device(r, "0000:00:04.0").domain == "identity");
    CHECK(device(r, "0000:00:04.0").dma.result == DmaResult::kIdentity);
}

TEST_CASE("iommu.strict=1 notes the command line on the invalidation policy line only (d8577d2e331d)",
          "[boot][strict]")
{
    SpecBuilder b = real_run_topology();
    b.spec().cmdline.strict = true;
    // What a real 6.12 guest printed with iommu.strict=1.
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    CHECK(logged(r, "iommu: Default domain type: Translated\n"));
    CHECK(logged(r, "iommu: DMA domain TLB invalidation policy: strict mode (set via kernel command line)\n"));
    // 6.1 prints both with "%s %s": the default domain type line ends in a space.
    const GuestReport old = boot_guest(b.spec(), profile("6.1"));
    CHECK(logged(old, "iommu: Default domain type: Translated \n"));
    CHECK(logged(old, "iommu: DMA domain TLB invalidation policy: strict mode (set via kernel command line)\n"));
}

TEST_CASE("With dynamic debug the virtio-iommu's own function is refused by VIOT: \"Adding to IOMMU failed: -22\"",
          "[boot][dyndbg]")
{
    BootOptions debug;
    debug.dynamic_debug = true;
    for (const char* kernel : {"6.1", "debian-12-6.12"}) {
        INFO(kernel);
        const GuestReport r = boot_guest(real_run_topology().spec(), profile(kernel), debug);
        CHECK(logged(r, "virtio-pci 0000:00:03.0: Adding to IOMMU failed: -22\n"));
        CHECK(logged(r, "iommu: map: iova 0x"));
        CHECK(logged(r, "iommu: unmap this: iova 0x"));
        // dev_dbg() and pr_debug() print nothing without dynamic debug.
        const GuestReport quiet = boot_guest(real_run_topology().spec(), profile(kernel));
        CHECK_FALSE(logged(quiet, "Adding to IOMMU failed"));
        CHECK_FALSE(logged(quiet, "iommu: map:"));
    }
}

TEST_CASE("VFIO on x86 6.12: vfio-pci binds, VFIO_SET_IOMMU fails with EPERM without interrupt remapping",
          "[boot][vfio][stage2]")
{
    const GuestReport r = boot_with_hostdev(SpecBuilder(), "debian-12-6.12");
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    CHECK_FALSE(d.vfio->admitted);
    CHECK(d.vfio->stage == vfio::Stage::kSetIommu);
    CHECK(d.vfio->error == kEPERM);
    CHECK(d.vfio->rule == guest::vfio::Rule::kType1IsolatedMsi);
    CHECK(d.vfio->commit.rfind("6b1a7a00427c", 0) == 0);
    CHECK(logged(r, "vfio_iommu_type1_attach_group: No interrupt remapping support.  Use the module param "
                    "\"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform"));
    CHECK(logged(r, "VFIO - User Level meta-driver version: 0.3"));
    CHECK(d.driver == "vfio-pci");
    CHECK(r.exit_code() == 1);
}

TEST_CASE("x86 without interrupt remapping: the remedies name the unsafe parameter and an IOMMU that remaps "
          "interrupts, which viommu does not model",
          "[boot][vfio][stage2]")
{
    const GuestReport r = boot_with_hostdev(SpecBuilder(), "debian-12-6.12");
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    REQUIRE(d.vfio->remedies.size() == 2);
    CHECK(d.vfio->remedies[0] == "vfio_iommu_type1.allow_unsafe_interrupts=1 (the device can then forge MSIs)");
    const std::string& alternative = d.vfio->remedies[1];
    CHECK(alternative.find("<iommu model='intel'><driver intremap='on'/></iommu>") != std::string::npos);
    CHECK(alternative.find("<ioapic driver='qemu'/>") != std::string::npos);
    CHECK(alternative.find("which viommu does not model") != std::string::npos);
    CHECK(alternative.find("GICv3") == std::string::npos);
}

TEST_CASE("arm64 with a GICv2m: the remedies name a GICv3 ITS, not an x86 IOMMU", "[boot][vfio][arm64]")
{
    SpecBuilder b(3, Arch::kAarch64);
    b.spec().msi = MsiController::kGicV2m;
    const GuestReport r = boot_with_hostdev(b, "6.12-arm64");
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    CHECK(d.vfio->error == kEPERM);
    REQUIRE(d.vfio->remedies.size() == 2);
    CHECK(d.vfio->remedies[1] == "a platform that isolates MSIs (arm64 with a GICv3 ITS)");
}

TEST_CASE("VFIO with allow_unsafe_interrupts=1 is admitted and the device DMAs through the container",
          "[boot][vfio][stage2]")
{
    SpecBuilder b;
    b.hostdev(6);
    b.spec().cmdline.allow_unsafe_interrupts = true;
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    CHECK(d.vfio->admitted);
    CHECK(d.vfio->unsafe);
    CHECK(d.vfio->stage == vfio::Stage::kUse);
    CHECK(r.exit_code() == 0);
    // After the container closes the group is back in its default domain.
    CHECK(d.domain == "DMA-FQ");
}

namespace {
// The VFIO verdict for a hostdev at 00:06.0 on 6.12 with allow_unsafe_interrupts=1, its user mapping
// its buffer at map_iova.
vfio::Verdict unsafe_type1_verdict(uint64_t map_iova)
{
    SpecBuilder b;
    b.hostdev(6);
    b.spec().cmdline.allow_unsafe_interrupts = true;
    b.spec().vfio_map_iova = map_iova;
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    return *d.vfio;
}
} // namespace

TEST_CASE("An admitted type1 container reports the aperture minus the MSI window as its IOVA ranges",
          "[boot][vfio][iova]")
{
    const vfio::Verdict v = unsafe_type1_verdict(0x100000);
    REQUIRE(v.admitted);
    CHECK(v.iova_ranges == std::vector<vfio::IovaRange>{{0, 0xfedfffff}, {0xfef00000, 0xffffffffffffffff}});
}

TEST_CASE("VFIO_IOMMU_MAP_DMA into the MSI window fails with EINVAL (9b77e5c79840)", "[boot][vfio][iova]")
{
    const vfio::Verdict v = unsafe_type1_verdict(0xfee00000);
    CHECK_FALSE(v.admitted);
    CHECK(v.stage == vfio::Stage::kUse);
    CHECK(v.rule == guest::vfio::Rule::kMapDma);
    CHECK(v.error == kEINVAL);
}

TEST_CASE("arm64 with a GICv3 ITS isolates MSIs: VFIO is admitted without unsafe interrupts", "[boot][vfio][arm64]")
{
    SpecBuilder b(3, Arch::kAarch64);
    b.hostdev(6);
    const GuestReport r = boot_guest(b.spec(), profile("6.12-arm64"));
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    CHECK(d.vfio->admitted);
    CHECK_FALSE(d.vfio->unsafe);
}

TEST_CASE("5.19 without the virtio-iommu fix: vfio-pci's probe fails with -EINVAL (e8ae0e140c05)", "[boot][vfio][stage1]")
{
    SpecBuilder b(3, Arch::kAarch64);
    b.hostdev(6);
    const GuestReport r = boot_guest(b.spec(), profile("5.19.8"));
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    CHECK_FALSE(d.vfio->admitted);
    CHECK(d.vfio->stage == vfio::Stage::kBind);
    CHECK(d.vfio->error == kEINVAL);
    CHECK(d.vfio->rule == guest::vfio::Rule::kRequiresCacheCoherency);
    CHECK(d.vfio->commit.rfind("e8ae0e140c05", 0) == 0);
    CHECK(logged(r, "vfio-pci: probe of 0000:00:06.0 failed with error -22"));
    CHECK(d.group); // it has a group: the refusal is the capability
    CHECK_FALSE(d.vfio->remedies.empty());
}

TEST_CASE("5.19.9 carries the fix (77a2d61334f7) and admits; 5.18 never asked", "[boot][vfio][stage1]")
{
    for (const char* kernel : {"5.19.9-arm64", "5.18-arm64"}) {
        SpecBuilder b(3, Arch::kAarch64);
        b.hostdev(6);
        const GuestReport r = boot_guest(b.spec(), profile(kernel));
        INFO(kernel);
        REQUIRE(device(r, "0000:00:06.0").vfio);
        CHECK(device(r, "0000:00:06.0").vfio->admitted);
    }
}

TEST_CASE("A group made non-viable by a sibling bound to a host driver is refused at SET_CONTAINER",
          "[boot][vfio][viability]")
{
    // Two conventional functions of one multifunction slot without ACS share a group (the real run's
    // rtl8139 pair).
    SpecBuilder b;
    const int f0 = b.hostdev(12, -1, pci::Kind::kEndpoint, "8139cp");
    b.at(f0).pci.multifunction = true;
    const int f1 = b.add("rtl8139", pci::Kind::kEndpoint, Role::kEmulated, 12, -1, 1, "8139cp");
    b.at(f1).pci.multifunction = true;
    b.spec().cmdline.allow_unsafe_interrupts = true;
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    REQUIRE(device(r, "0000:00:0c.0").group == device(r, "0000:00:0c.1").group);
    const DeviceReport& d = device(r, "0000:00:0c.0");
    REQUIRE(d.vfio);
    CHECK_FALSE(d.vfio->admitted);
    CHECK(d.vfio->stage == vfio::Stage::kSetContainer);
    CHECK(d.vfio->error == kEPERM);
    CHECK(d.vfio->reason.find("0000:00:0c.1 is bound to 8139cp") != std::string::npos);
}

TEST_CASE("A hostdev behind a PCIe-to-PCI bridge has no group and vfio-pci refuses it", "[boot][vfio][bridge]")
{
    SpecBuilder b;
    const int br = b.add("pcie-pci-bridge", pci::Kind::kPcieToPciBridge, Role::kBridge, 7);
    b.hostdev(1, br, pci::Kind::kEndpoint, "e1000");
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    const DeviceReport& d = device(r, "0000:01:01.0");
    REQUIRE(d.vfio);
    CHECK(d.vfio->stage == vfio::Stage::kBind);
    CHECK(d.vfio->rule == guest::vfio::Rule::kNeedsIommuGroup);
    CHECK(d.vfio->error == kEINVAL);
    CHECK(d.vfio->reason.find("0x0108") != std::string::npos);
    CHECK(logged(r, "vfio-pci 0000:01:01.0: probe with driver vfio-pci failed with error -22"));
}

TEST_CASE("Debian 12's stock 6.1 kernel does not build virtio-iommu: no groups, vfio-pci refuses", "[boot][profiles]")
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    b.hostdev(6);
    const GuestReport r = boot_guest(b.spec(), profile("debian-12"));
    CHECK_FALSE(r.iommu.driver_built);
    CHECK_FALSE(device(r, "0000:00:04.0").group);
    CHECK(device(r, "0000:00:04.0").dma.result == DmaResult::kBypassed);
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    CHECK(d.vfio->rule == guest::vfio::Rule::kNeedsIommuGroup);
    CHECK(d.vfio->reason.find("CONFIG_VIRTIO_IOMMU") != std::string::npos);
}

TEST_CASE("A driver that finds MAP_UNMAP withheld refuses the device; nothing gets a group", "[boot][negotiation]")
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    b.spec().iommu.withheld_features = virtio::feature(VIRTIO_IOMMU_F_MAP_UNMAP);
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    CHECK_FALSE(r.iommu.driver_ready);
    CHECK_FALSE(device(r, "0000:00:04.0").group);
}

TEST_CASE("A driver whose device withholds BYPASS_CONFIG still works, without it", "[boot][negotiation]")
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    b.spec().iommu.withheld_features = virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG);
    const GuestReport r = boot_guest(b.spec(), profile("debian-12-6.12"));
    CHECK(r.iommu.driver_ready);
    CHECK_FALSE(r.iommu.features & virtio::feature(VIRTIO_IOMMU_F_BYPASS_CONFIG));
    CHECK(device(r, "0000:00:04.0").dma.result == DmaResult::kTranslated);
}

TEST_CASE("The same guest boots to the same report, byte for byte", "[boot][determinism]")
{
    const GuestReport a = boot_guest(real_run_topology().spec(), profile("debian-12-6.12"));
    const GuestReport b = boot_guest(real_run_topology().spec(), profile("debian-12-6.12"));
    CHECK(a.dmesg == b.dmesg);
}

TEST_CASE("5.15 to 6.4 on x86: virtio-iommu refuses DMA-FQ and every group falls back to DMA with a warning",
          "[boot][profiles][lazy]")
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    const GuestReport r = boot_guest(b.spec(), profile("6.1"));
    CHECK(device(r, "0000:00:04.0").domain == "DMA");
    CHECK(logged(r, "iommu: Failed to allocate default IOMMU domain of type 11 for group (null) - Falling back to "
                    "IOMMU_DOMAIN_DMA"));
    // Before 32261d10943b (v6.5) both lines end in a space when nothing came from the command line.
    CHECK(logged(r, "iommu: Default domain type: Translated \n"));
    CHECK(logged(r, "iommu: DMA domain TLB invalidation policy: lazy mode \n"));
}

TEST_CASE("6.5 to 6.7: the core asks for DMA and keeps it strict without IOMMU_CAP_DEFERRED_FLUSH, silently",
          "[boot][profiles][lazy]")
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    const GuestReport r = boot_guest(b.spec(), profile("6.6"));
    CHECK(device(r, "0000:00:04.0").domain == "DMA");
    CHECK_FALSE(logged(r, "Falling back"));
}

TEST_CASE("x86 kernels before 5.14 have no virtio-iommu driver: nothing is translated", "[boot][profiles]")
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    b.hostdev(6);
    const GuestReport r = boot_guest(b.spec(), profile("5.10"));
    CHECK_FALSE(r.iommu.driver_built);
    CHECK(r.iommu.why_not.find("no virtio-iommu driver for x86") != std::string::npos);
    CHECK_FALSE(device(r, "0000:00:04.0").group);
    CHECK(device(r, "0000:00:04.0").deferrals == 0);
    REQUIRE(device(r, "0000:00:06.0").vfio);
    CHECK(device(r, "0000:00:06.0").vfio->rule == guest::vfio::Rule::kNeedsIommuGroup);
}

namespace {
// A user profile: a built-in one (base) or a bare version, with CONFIG_VFIO_NOIOMMU=y.
Profile with_noiommu(const std::string& from)
{
    const char* key = std::isdigit(static_cast<unsigned char>(from[0])) ? "version" : "base";
    auto p = Profile::from_json(fmt::format(R"({{"name": "noiommu", "{}": "{}", "config": {{"CONFIG_VFIO_NOIOMMU": "y"}}}})",
                                            key, from),
                                "test");
    INFO((p ? std::string() : p.error()));
    REQUIRE(p);
    return *p;
}
} // namespace

TEST_CASE("No-IOMMU mode gives a groupless device a VFIO group, tainting the kernel", "[boot][vfio][noiommu]")
{
    SpecBuilder b(-1);
    b.hostdev(6);
    b.spec().cmdline.enable_unsafe_noiommu_mode = true;
    const GuestReport r = boot_guest(b.spec(), with_noiommu("debian-12-6.12"));
    const DeviceReport& d = device(r, "0000:00:06.0");
    REQUIRE(d.vfio);
    CHECK(d.vfio->admitted);
    CHECK(d.vfio->unsafe);
    CHECK(d.vfio->rule == guest::vfio::Rule::kNoiommu);
    CHECK(logged(r, "vfio-pci 0000:00:06.0: Adding kernel taint for vfio-noiommu group on device"));
}

TEST_CASE("Before v5.19 no-IOMMU mode does not apply while an IOMMU driver serves the PCI bus (a77109ffca33)",
          "[boot][vfio][noiommu]")
{
    SpecBuilder b(3, Arch::kAarch64);
    const int br = b.add("pcie-pci-bridge", pci::Kind::kPcieToPciBridge, Role::kBridge, 7);
    b.hostdev(1, br);
    b.spec().cmdline.enable_unsafe_noiommu_mode = true;
    const GuestReport old = boot_guest(b.spec(), with_noiommu("5.18"));
    REQUIRE(device(old, "0000:01:01.0").vfio);
    CHECK_FALSE(device(old, "0000:01:01.0").vfio->admitted);
    CHECK(device(old, "0000:01:01.0").vfio->commit.rfind("a77109ffca33", 0) == 0);
    const GuestReport now = boot_guest(b.spec(), with_noiommu("5.19.9"));
    REQUIRE(device(now, "0000:01:01.0").vfio);
    CHECK(device(now, "0000:01:01.0").vfio->admitted);
}

TEST_CASE("From 6.15 (bcb81ac6ae3c) a device without a driver gets its group when the IOMMU registers",
          "[boot][profiles][groups]")
{
    SpecBuilder b;
    b.add("unclaimed", pci::Kind::kEndpoint, Role::kEmulated, 6); // no guest driver
    const GuestReport before = boot_guest(b.spec(), profile("6.14"));
    CHECK_FALSE(device(before, "0000:00:06.0").group);
    const GuestReport after = boot_guest(b.spec(), profile("6.17"));
    CHECK(device(after, "0000:00:06.0").group);
}

TEST_CASE("6.15 to 6.16.3 do not find the virtio-iommu instance: no device gets a group (72b6f7cd89ce)",
          "[boot][profiles][groups]")
{
    SpecBuilder b;
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    b.hostdev(6);
    const GuestReport r = boot_guest(b.spec(), profile("6.15"));
    CHECK(r.iommu.driver_ready);
    CHECK_FALSE(device(r, "0000:00:04.0").group);
    REQUIRE(device(r, "0000:00:06.0").vfio);
    CHECK(device(r, "0000:00:06.0").vfio->reason.find("72b6f7cd89ce") != std::string::npos);
}

TEST_CASE("arm64 before 6.0: with virtio_iommu=m, devices stop waiting at late_initcall (timeout 0)",
          "[boot][profiles][arm64]")
{
    // of_iommu_configure() asks driver_deferred_probe_check_state(), which gives up once the initcalls
    // are done and the timeout is 0, the default until f516d01b9df2 (6.0) made it 10 s.
    SpecBuilder b(3, Arch::kAarch64);
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    const GuestReport old = boot_guest(b.spec(), profile("5.19.9-arm64"));
    CHECK_FALSE(device(old, "0000:00:04.0").group);
    CHECK(logged(old, "virtio-pci 0000:00:04.0: deferred probe timeout, ignoring dependency"));
    CHECK(device(old, "0000:00:04.0").no_group_reason.find("deferred-probe timeout") != std::string::npos);
    const GuestReport now = boot_guest(b.spec(), profile("6.1-arm64"));
    CHECK(device(now, "0000:00:04.0").group);
}

TEST_CASE("The virtio-iommu is driven through virtio-pci, which negotiates RING_RESET from 6.0", "[boot][virtio-pci]")
{
    // Real Linux 6.1 and 6.12 guests on QEMU 7.2 negotiate 0x10130000077 with virtio-iommu-pci;
    // 5.15's virtio_pci predates vp_transport_features()'s RING_RESET (04ca0b0b16f1).
    CHECK(boot_guest(real_run_topology().spec(), profile("debian-12-6.12")).iommu.features == 0x10130000077);
    CHECK(boot_guest(real_run_topology().spec(), profile("6.1")).iommu.features == 0x10130000077);
    CHECK_FALSE(boot_guest(real_run_topology().spec(), profile("5.15")).iommu.features & virtio::feature(virtio::kFRingReset));
}

TEST_CASE("With <viommu:iommu packed='on'/> the 6.12 guest takes RING_PACKED and boots as on split rings",
          "[boot][virtio-pci][2.8]")
{
    // Linux's ring code keeps RING_PACKED from 5.0 (1ce9e6055fa0); the requests and their answers are the
    // same on either ring, so groups, domains and VFIO verdicts are too.
    SpecBuilder b = real_run_topology();
    b.hostdev(10);
    GuestSpec packed_spec = b.spec();
    packed_spec.iommu.packed = true;
    const GuestReport split = boot_guest(b.spec(), profile("debian-12-6.12"));
    const GuestReport packed = boot_guest(packed_spec, profile("debian-12-6.12"));
    const virtio::FeatureBits ring_packed = virtio::feature(virtio::kFRingPacked);
    CHECK_FALSE(split.iommu.features & ring_packed);
    CHECK(packed.iommu.features == (split.iommu.features | ring_packed));
    REQUIRE(packed.devices.size() == split.devices.size());
    for (std::size_t i = 0; i < split.devices.size(); ++i) {
        const DeviceReport& s = split.devices[i];
        const DeviceReport& p = packed.devices[i];
        INFO(s.bdf);
        CHECK(p.bdf == s.bdf);
        CHECK(p.group == s.group);
        CHECK(p.domain == s.domain);
        CHECK(p.driver == s.driver);
        REQUIRE(p.vfio.has_value() == s.vfio.has_value());
        if (s.vfio) {
            CHECK(p.vfio->admitted == s.vfio->admitted);
            CHECK(p.vfio->error == s.vfio->error);
            CHECK(p.vfio->reason == s.vfio->reason);
        }
    }
    CHECK(device(packed, "0000:00:0a.0").vfio);
    CHECK(packed.exit_code() == split.exit_code());
}

// ---- arm64 ---------------------------------------------------------------------------------------

namespace {

// An arm64 virt guest with a hostdev behind a root port, as tests/integration/fixtures/virt-aarch64*.xml.
SpecBuilder arm64_hostdev(MsiController msi, FirmwareTables tables = FirmwareTables::kDeviceTree)
{
    SpecBuilder b(3, Arch::kAarch64);
    b.spec().msi = msi;
    b.spec().tables = tables;
    const int port = b.add("pcie-root-port", pci::Kind::kRootPort, Role::kBridge, 1);
    b.hostdev(0, port);
    return b;
}

// The arm64 profiles whose kernel can give the hostdev an IOMMU group and bind vfio-pci: not before the
// driver (4.19), not Debian's 6.1 (no CONFIG_VIRTIO_IOMMU), not 5.19.0-5.19.8 (e8ae0e140c05 without
// 91c98fe79414), not 6.15 (groups made at IOMMU registration, bcb81ac6ae3c, before the virtio-iommu's own
// instance can be found: no device gets a group until 72b6f7cd89ce).
bool binds(const std::string& kernel)
{
    return kernel != "4.19-arm64" && kernel != "debian-12-arm64" && kernel != "5.19-arm64" && kernel != "6.15-arm64";
}

} // namespace

// QEMU's boot-bypass property (IommuDesc::boot_bypass) through the whole boot: off, the DMA of every
// endpoint no domain holds faults, the firmware's included, and the report names each faulting device
// with the reason the device gave.
namespace {

// q35 with a virtio-iommu, a virtio-blk boot disk with iommu_platform at 00:04.0, and an e1000 behind a
// PCIe-to-PCI bridge at 00:05.0 (its DMA carries the alias 0x0100, which Linux never attaches).
SpecBuilder disk_and_bridged_nic()
{
    SpecBuilder b;
    b.add("virtio-blk", pci::Kind::kEndpoint, Role::kVirtioBlk, 4);
    const int bridge = b.add("pcie-pci-bridge", pci::Kind::kPcieToPciBridge, Role::kBridge, 5);
    b.nic(1, bridge);
    return b;
}

GuestReport boot_with(bool boot_bypass, const std::string& device_profile)
{
    SpecBuilder b = disk_and_bridged_nic();
    b.spec().iommu.boot_bypass = boot_bypass;
    b.spec().iommu.device_profile = device_profile;
    auto profile = guest::profiles::Profile::load("debian-12-6.12");
    REQUIRE(profile);
    return boot_guest(b.spec(), *profile);
}

} // namespace

TEST_CASE("a kernel built for another architecture is refused before the boot", "[boot][arm64][profiles]")
{
    SpecBuilder b(3, Arch::kAarch64);
    CHECK(arch_mismatch(b.spec(), profile("6.12")) ==
          "kernel profile \"6.12\" is built for x86_64, but guest \"test\" is an aarch64 guest: choose an aarch64 "
          "profile such as debian-12-6.12-arm64 (--list-kernels shows each profile's architecture)");
    CHECK_THROWS_AS(boot_guest(b.spec(), profile("6.12")), std::invalid_argument);
    CHECK_FALSE(arch_mismatch(b.spec(), profile("6.12-arm64")));
    CHECK_FALSE(arch_mismatch(b.spec(), profile("6.12.5"))); // a bare version fits either
    CHECK(default_profile(Arch::kAarch64).name() == "debian-12-6.12-arm64");
}

TEST_CASE("arm64 with a GICv3 ITS: type1 admits the hostdev wherever vfio-pci binds, by the isolated-MSI rule",
          "[boot][arm64][vfio]")
{
    for (const std::string& kernel : Profile::comparison_names(Arch::kAarch64)) {
        INFO(kernel);
        const Profile p = profile(kernel);
        const GuestReport r = boot_guest(arm64_hostdev(MsiController::kGicV3Its).spec(), p);
        const DeviceReport& d = device(r, "0000:01:00.0");
        REQUIRE(d.vfio);
        if (!binds(kernel)) {
            CHECK_FALSE(d.vfio->admitted);
            CHECK(d.vfio->stage == vfio::Stage::kBind);
            continue;
        }
        CHECK(d.vfio->admitted);
        CHECK_FALSE(d.vfio->unsafe);
        // Before 6b1a7a00427c (v6.3) type1 asked irq_domain_check_msi_remap(), which the ITS's
        // IRQ_DOMAIN_FLAG_MSI_REMAP satisfies; since, iommu_group_has_isolated_msi().
        const bool isolated_msi = p.version() >= KernelVersion{6, 3, 0};
        CHECK(d.vfio->rule == (isolated_msi ? vfio::Rule::kType1IsolatedMsi : vfio::Rule::kType1MsiRemap));
        CHECK(d.vfio->commit.starts_with(isolated_msi ? "6b1a7a00427c" : ""));
    }
}

TEST_CASE("arm64 with GICv2m: type1 refuses the hostdev at VFIO_SET_IOMMU with EPERM wherever vfio-pci binds",
          "[boot][arm64][vfio]")
{
    for (const std::string& kernel : Profile::comparison_names(Arch::kAarch64)) {
        INFO(kernel);
        const GuestReport r = boot_guest(arm64_hostdev(MsiController::kGicV2m).spec(), profile(kernel));
        const DeviceReport& d = device(r, "0000:01:00.0");
        REQUIRE(d.vfio);
        CHECK_FALSE(d.vfio->admitted);
        CHECK(d.vfio->stage == (binds(kernel) ? vfio::Stage::kSetIommu : vfio::Stage::kBind));
        if (binds(kernel)) {
            CHECK(d.vfio->error == kEPERM);
            CHECK(logged(r, "vfio_iommu_type1_attach_group: No interrupt remapping support."));
        }
    }
}

TEST_CASE("arm64 with GICv2m and iommufd: refused by the MSI check at attach before d525a5b8cf39 (v6.6), at bind "
          "from it; an ITS is admitted",
          "[boot][arm64][vfio][iommufd]")
{
    // Before 6.6 only iommufd's compat container exists (the cdev is 5fcc26969a16, v6.6): its attach
    // happens inside VFIO_GROUP_GET_DEVICE_FD.
    SpecBuilder b = arm64_hostdev(MsiController::kGicV2m);
    b.spec().vfio_backend = VfioBackend::kIommufdCompat;
    const GuestReport attach = boot_guest(b.spec(), with_iommufd("6.3"));
    REQUIRE(device(attach, "0000:01:00.0").vfio);
    CHECK(device(attach, "0000:01:00.0").vfio->stage == vfio::Stage::kGetDeviceFd);
    CHECK(device(attach, "0000:01:00.0").vfio->rule == vfio::Rule::kIommufd);
    CHECK(device(attach, "0000:01:00.0").vfio->error == kEPERM);
    b.spec().vfio_backend = VfioBackend::kIommufd;
    const GuestReport bind = boot_guest(b.spec(), with_iommufd("6.6-arm64"));
    REQUIRE(device(bind, "0000:01:00.0").vfio);
    CHECK(device(bind, "0000:01:00.0").vfio->stage == vfio::Stage::kIommufdBind);
    CHECK(device(bind, "0000:01:00.0").vfio->rule == vfio::Rule::kIommufdIsolatedMsiAtBind);
    CHECK(device(bind, "0000:01:00.0").vfio->error == kEPERM);
    b.spec().msi = MsiController::kGicV3Its;
    const GuestReport its = boot_guest(b.spec(), with_iommufd("6.6-arm64"));
    REQUIRE(device(its, "0000:01:00.0").vfio);
    CHECK(device(its, "0000:01:00.0").vfio->admitted);
}

TEST_CASE("5.10 admits on arm64 (the driver is arm64-only from edcd69ab9a32) where x86 has no virtio-iommu",
          "[boot][arm64][vfio]")
{
    const GuestReport arm = boot_guest(arm64_hostdev(MsiController::kGicV3Its).spec(), profile("5.10-arm64"));
    REQUIRE(device(arm, "0000:01:00.0").vfio);
    CHECK(device(arm, "0000:01:00.0").vfio->admitted);
    SpecBuilder x86;
    const int port = x86.add("pcie-root-port", pci::Kind::kRootPort, Role::kBridge, 1);
    x86.hostdev(0, port);
    const GuestReport r = boot_guest(x86.spec(), profile("5.10"));
    REQUIRE(device(r, "0000:01:00.0").vfio);
    CHECK(device(r, "0000:01:00.0").vfio->stage == vfio::Stage::kBind);
    CHECK(device(r, "0000:01:00.0").vfio->rule == vfio::Rule::kNeedsIommuGroup);
}

TEST_CASE("an arm64 guest under UEFI with ACPI needs VIOT (3cf485540e7b, v5.14): 5.10 gives its devices no IOMMU",
          "[boot][arm64][firmware]")
{
    const GuestReport acpi = boot_guest(arm64_hostdev(MsiController::kGicV3Its, FirmwareTables::kAcpi).spec(),
                                        profile("5.10-arm64"));
    const DeviceReport& d = device(acpi, "0000:01:00.0");
    CHECK_FALSE(d.group);
    CHECK_FALSE(d.behind_iommu); // the firmware the kernel reads puts nothing behind it
    REQUIRE(d.vfio);
    CHECK(d.vfio->rule == vfio::Rule::kNeedsIommuGroup);
    CHECK(d.vfio->reason.find("Linux 5.10 cannot read the ACPI VIOT table") != std::string::npos);
    // 5.15 reads VIOT; the endpoints wait for the module without a timeout, unlike of_iommu before 6.0.
    SpecBuilder b = arm64_hostdev(MsiController::kGicV3Its, FirmwareTables::kAcpi);
    b.add("virtio-net", pci::Kind::kEndpoint, Role::kVirtioNet, 4);
    const GuestReport viot = boot_guest(b.spec(), profile("5.15-arm64"));
    CHECK(device(viot, "0000:00:04.0").group);
    REQUIRE(device(viot, "0000:01:00.0").vfio);
    CHECK(device(viot, "0000:01:00.0").vfio->admitted);
    b.spec().tables = FirmwareTables::kDeviceTree;
    CHECK_FALSE(device(boot_guest(b.spec(), profile("5.15-arm64")), "0000:00:04.0").group);
}

TEST_CASE("arm64 virt reports its MSI doorbell page as the endpoints' reserved MSI region", "[boot][arm64][msi]")
{
    // QEMU 7.2's virt_machine_device_pre_plug_cb() gives the virtio-iommu the GITS_TRANSLATER page (ITS)
    // or the MSI_SETSPI_NS page (GICv2m) as a VIRTIO_IOMMU_RESV_MEM_T_MSI region; viommu_get_resv_regions()
    // then adds no IOMMU_RESV_SW_MSI region. Seen in the arm64-default-guest recording. On q35 QEMU
    // reports the 0xfee00000 window.
    const GuestReport its = boot_guest(arm64_hostdev(MsiController::kGicV3Its).spec(), profile("6.12-arm64"));
    CHECK(device(its, "0000:01:00.0").reserved_regions ==
          std::vector<std::string>{"0x0000000008090000 0x000000000809ffff msi"});
    const GuestReport v2m = boot_guest(arm64_hostdev(MsiController::kGicV2m).spec(), profile("6.12-arm64"));
    CHECK(device(v2m, "0000:01:00.0").reserved_regions ==
          std::vector<std::string>{"0x0000000008020000 0x0000000008020fff msi"});
    SpecBuilder x86;
    x86.hostdev(6);
    CHECK(device(boot_guest(x86.spec(), profile("6.12")), "0000:00:06.0").reserved_regions ==
          std::vector<std::string>{"0x00000000fee00000 0x00000000feefffff msi"});
}

TEST_CASE("on a device tree no root port isolates: ACS is asked for only after the PCI scan", "[boot][arm64][acs]")
{
    // Two root ports as functions of one slot, a hostdev below each. With ACPI (VIOT) pci_request_acs()
    // runs before the scan and each port's ACS capability is enabled: a group per port and per hostdev.
    // With a device tree of_iommu_configure() asks when a driver probes, after pci_acs_init() found
    // pci_acs_enable clear, so the ports' ACS stays off: one group for all (arm64-default-guest
    // recording, Linux 6.12.118).
    const auto two_ports = [](FirmwareTables tables) {
        SpecBuilder b(3, Arch::kAarch64);
        b.spec().msi = MsiController::kGicV3Its;
        b.spec().tables = tables;
        const int first = b.add("pcie-root-port", pci::Kind::kRootPort, Role::kBridge, 1);
        b.at(first).pci.multifunction = true;
        const int second = b.add("pcie-root-port", pci::Kind::kRootPort, Role::kBridge, 1, -1, 1);
        b.at(second).pci.multifunction = true; // as Linux's pci_scan_slot() marks it
        b.hostdev(0, first);
        b.hostdev(0, second);
        return boot_guest(b.spec(), profile("6.12-arm64"));
    };
    const GuestReport acpi = two_ports(FirmwareTables::kAcpi);
    CHECK(device(acpi, "0000:00:01.0").group != device(acpi, "0000:00:01.1").group);
    CHECK(device(acpi, "0000:01:00.0").group != device(acpi, "0000:02:00.0").group);
    const GuestReport dt = two_ports(FirmwareTables::kDeviceTree);
    REQUIRE(device(dt, "0000:00:01.0").group);
    CHECK(device(dt, "0000:00:01.1").group == device(dt, "0000:00:01.0").group);
    CHECK(device(dt, "0000:01:00.0").group == device(dt, "0000:00:01.0").group);
    CHECK(device(dt, "0000:02:00.0").group == device(dt, "0000:00:01.0").group);
}

TEST_CASE("boot-bypass on: the firmware's and the unattached device's DMA bypass, as before", "[boot][bypass]")
{
    const GuestReport r = boot_with(true, "qemu-7.2");
    CHECK(r.iommu.boot_bypass);
    CHECK_FALSE(device(r, "0000:00:04.0").firmware_dma);
    CHECK(device(r, "0000:01:01.0").dma.result == DmaResult::kBypassed);
    CHECK(render_table(r).find("boot-bypass") == std::string::npos);
}

TEST_CASE("boot-bypass off: the firmware's read from its boot disk faults before any driver attaches it, "
          "reason UNKNOWN under QEMU 7.2",
          "[boot][bypass]")
{
    const GuestReport r = boot_with(false, "qemu-7.2");
    CHECK_FALSE(r.iommu.boot_bypass);
    const DeviceReport& disk = device(r, "0000:00:04.0");
    REQUIRE(disk.firmware_dma);
    CHECK(disk.firmware_dma->result == DmaResult::kFault);
    // QEMU 7.2's virtio_iommu_translate(): an endpoint it holds no state for is "not known": R_UNKNOWN.
    CHECK(disk.firmware_dma->reason == "UNKNOWN");
    CHECK(disk.firmware_dma->detail == "firmware read at 0x40000000 (endpoint 0x0020)");
    // Linux attaches it afterwards, and the driver's own DMA is translated.
    CHECK(disk.dma.result == DmaResult::kTranslated);
}

TEST_CASE("boot-bypass off: a device Linux could not attach faults on every DMA, with the device's reason",
          "[boot][bypass]")
{
    const GuestReport r = boot_with(false, "qemu-7.2");
    const DeviceReport& nic = device(r, "0000:01:01.0");
    CHECK_FALSE(nic.group);
    CHECK(nic.dma.result == DmaResult::kFault);
    CHECK(nic.dma.reason == "UNKNOWN");
    // The spec's device keeps no state per endpoint: an endpoint in no domain is reason DOMAIN (§5.13.6.2).
    const GuestReport spec = boot_with(false, "spec");
    CHECK(device(spec, "0000:01:01.0").dma.reason == "DOMAIN");
}

TEST_CASE("boot-bypass off: the report names it, shows the faults in the DMA column and sums them up naming "
          "each faulting device",
          "[boot][bypass][report]")
{
    const std::string table = render_table(boot_with(false, "qemu-7.2"));
    CHECK(table.find("(device profile qemu-7.2) (boot-bypass off)\n") != std::string::npos);
    CHECK(table.find("firmware fault, translated") != std::string::npos);
    CHECK(table.find("\nDMA faults with boot-bypass off: 2\n"
                     "  0000:00:04.0 (virtio-blk): firmware read at 0x40000000 (endpoint 0x0020): reason UNKNOWN, "
                     "before any driver attached it: on QEMU the firmware cannot load the guest from this disk") !=
          std::string::npos);
    CHECK(table.find("  0000:01:01.0 (e1000): fault at ") != std::string::npos);
    CHECK(table.find("(endpoint 0x0100): reason UNKNOWN, Linux never attached it to a domain\n") != std::string::npos);
    CHECK(table != render_table(boot_with(true, "qemu-7.2")));
}

TEST_CASE("a kernel QEMU loads itself (<os><kernel>): the firmware reads no disk, nothing faults before Linux",
          "[boot][bypass]")
{
    SpecBuilder b = disk_and_bridged_nic();
    b.spec().iommu.boot_bypass = false;
    b.spec().direct_kernel_boot = true;
    auto profile = guest::profiles::Profile::load("debian-12-6.12");
    REQUIRE(profile);
    const GuestReport r = boot_guest(b.spec(), *profile);
    CHECK_FALSE(device(r, "0000:00:04.0").firmware_dma);
}

TEST_CASE("properties the guest's device profile cannot take are refused before the boot", "[boot][bypass]")
{
    SpecBuilder b;
    b.spec().iommu.aw_bits = 48;
    b.spec().iommu.device_profile = "qemu-7.2";
    const auto problems = iommu_option_problems(b.spec(), {});
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].rfind("the virtio-iommu's properties under device profile qemu-7.2: QEMU 7.2 cannot be given "
                            "an input range",
                            0) == 0);
    auto profile = guest::profiles::Profile::load("debian-12-6.12");
    REQUIRE(profile);
    CHECK_THROWS_AS(boot_guest(b.spec(), *profile), std::invalid_argument);
    b.spec().iommu.device_profile = "qemu-9.1";
    CHECK(iommu_option_problems(b.spec(), {}).empty());
    // The command line's profile, when given, is the one that applies.
    BootOptions options;
    options.device = hw::virtio_iommu::find_device_profile("qemu-7.2")->behaviour;
    CHECK_FALSE(iommu_option_problems(b.spec(), options).empty());
}

TEST_CASE("aw-bits and granule set the device's input range and page size mask", "[boot][bypass]")
{
    SpecBuilder b;
    b.spec().iommu.aw_bits = 48;
    b.spec().iommu.granule = 65536;
    auto profile = guest::profiles::Profile::load("debian-12-6.12");
    REQUIRE(profile);
    const GuestReport r = boot_guest(b.spec(), *profile);
    // Linux's viommu_probe() logs them: "input address: %u bits" and "page mask: %#llx".
    CHECK(r.dmesg.find("virtio_iommu virtio0: input address: 48 bits") != std::string::npos);
    CHECK(r.dmesg.find("virtio_iommu virtio0: page mask: 0xffffffffffff0000") != std::string::npos);
}

TEST_CASE("A mainline profile builds x86_64_defconfig's NIC drivers in: they defer until virtio_iommu loads",
          "[boot][groups]")
{
    // CONFIG_E1000E=y in x86_64_defconfig: e1000e registers at device_initcall, before the virtio_iommu
    // module is up, so its probe defers (dma_configure() returns -EPROBE_DEFER); Debian builds it as a
    // module, which udev loads once the IOMMU is there.
    const GuestReport mainline = boot_guest(real_run_topology().spec(), profile("6.12"));
    const GuestReport debian = boot_guest(real_run_topology().spec(), profile("debian-12-6.12"));
    CHECK(device(mainline, "0000:00:06.0").driver == "e1000e");
    CHECK(device(mainline, "0000:00:06.0").deferrals >= 1);
    CHECK(device(debian, "0000:00:06.0").driver == "e1000e");
    CHECK(device(debian, "0000:00:06.0").deferrals == 0);
}

TEST_CASE("A driver the profile's config does not build leaves its device without a driver or a group",
          "[boot][groups]")
{
    // x86_64_defconfig leaves CONFIG_LPC_ICH unset: q35's ICH9 LPC function (00:1f.0) is never probed,
    // so dma_configure() never runs for it and virtio-iommu never sees it. Debian builds lpc_ich (m).
    SpecBuilder b;
    b.add("ICH9-LPC", pci::Kind::kEndpoint, Role::kEmulated, 0x1f, -1, 0, "lpc_ich");
    b.add("ich9-ahci", pci::Kind::kEndpoint, Role::kEmulated, 0x1f, -1, 2, "ahci");
    const GuestSpec& spec = b.spec();
    const GuestReport mainline = boot_guest(spec, profile("6.12"));
    const GuestReport debian = boot_guest(spec, profile("debian-12-6.12"));
    CHECK(device(mainline, "0000:00:1f.0").driver.empty());
    CHECK_FALSE(device(mainline, "0000:00:1f.0").group);
    CHECK(device(mainline, "0000:00:1f.2").driver == "ahci");
    CHECK(device(debian, "0000:00:1f.0").driver == "lpc_ich");
    CHECK(device(debian, "0000:00:1f.0").group);
}
