// system/truth/qemu_command.h: a libvirt domain as the QEMU command line that boots it for real.
#include <algorithm>

#include <catch2/catch.hpp>

#include "system/boot/libvirt_domain.h"
#include "system/truth/cpio_newc.h"
#include "system/truth/elf_arch.h"
#include "system/truth/initramfs.h"
#include "system/truth/kernel_package.h"
#include "system/truth/qemu_command.h"

using namespace viommu::system;
using namespace viommu::system::truth;

namespace {

boot::GuestSpec default_guest()
{
    auto spec = boot::parse_domain_xml(boot::default_guest_xml(), "default");
    REQUIRE(spec);
    return *spec;
}

// The default guest's devices on QEMU's arm64 virt machine with a GICv3, as the arm64 recordings have it.
boot::GuestSpec arm64_guest(const std::string& features = "<gic version='3'/>", const std::string& os = "")
{
    std::string xml(boot::default_guest_xml());
    const auto replace = [&xml](const std::string& from, const std::string& to) {
        const size_t at = xml.find(from);
        REQUIRE(at != std::string::npos);
        xml.replace(at, from.size(), to);
    };
    replace("<type arch='x86_64' machine='q35'>hvm</type>", "<type arch='aarch64' machine='virt'>hvm</type>" + os);
    replace("<acpi/>", features);
    auto spec = boot::parse_domain_xml(xml, "arm64");
    REQUIRE(spec);
    return *spec;
}

bool has(const std::vector<std::string>& args, const std::string& arg)
{
    return std::find(args.begin(), args.end(), arg) != args.end();
}

} // namespace

TEST_CASE("the default guest maps to q35 with its controllers, virtio devices and edu stand-ins", "[unit][truth]")
{
    const auto plan = qemu_plan(default_guest());
    REQUIRE(plan);
    CHECK(has(plan->args, "-nodefaults"));
    CHECK(has(plan->args, "q35"));
    CHECK(has(plan->args, "1024M"));
    CHECK(has(plan->args, "pcie-root-port,id=br1,bus=pcie.0,addr=0x2.0x0,multifunction=on,chassis=1,port=0x10"));
    CHECK(has(plan->args, "pcie-root-port,id=br3,bus=pcie.0,addr=0x2.0x1,chassis=2,port=0x11"));
    CHECK(has(plan->args, "pcie-pci-bridge,id=br8,bus=br7,addr=0x0.0x0"));
    CHECK(has(plan->args, "virtio-net-pci,netdev=net2,bus=br1,addr=0x0.0x0,iommu_platform=on"));
    CHECK(has(plan->args, "virtio-iommu-pci,bus=pcie.0,addr=0x3.0x0"));
    CHECK(has(plan->args, "edu,bus=br5,addr=0x0.0x0"));
    CHECK(has(plan->args, "edu,bus=br8,addr=0x1.0x0"));
    CHECK(plan->vfio_ids == std::vector<std::string>{kStandInId});
    CHECK(plan->notes.size() == 2);
    CHECK(plan->kernel_args.empty());
}

TEST_CASE("the default guest's console is q35's first serial port", "[unit][truth]")
{
    const auto plan = qemu_plan(default_guest());
    REQUIRE(plan);
    CHECK(plan->console == "ttyS0");
}

TEST_CASE("an aarch64 guest maps to virt with its GIC version, a 64-bit CPU and the PL011 console", "[unit][truth]")
{
    const auto plan = qemu_plan(arm64_guest());
    REQUIRE(plan);
    CHECK(has(plan->args, "virt,gic-version=3"));
    CHECK(has(plan->args, "cortex-a57"));
    CHECK_FALSE(has(plan->args, "q35"));
    CHECK(has(plan->args, "pcie-pci-bridge,id=br8,bus=br7,addr=0x0.0x0"));
    CHECK(has(plan->args, "virtio-iommu-pci,bus=pcie.0,addr=0x3.0x0"));
    CHECK(has(plan->args, "edu,bus=br8,addr=0x1.0x0"));
    CHECK(plan->console == "ttyAMA0");
    const auto gicv2 = qemu_plan(arm64_guest("<gic version='2'/>"));
    REQUIRE(gicv2);
    CHECK(has(gicv2->args, "virt,gic-version=2"));
}

TEST_CASE("an aarch64 guest under UEFI with ACPI is refused: the real boot runs no firmware", "[unit][truth]")
{
    const auto plan = qemu_plan(
        arm64_guest("<acpi/><gic version='3'/>", "<loader readonly='yes' type='pflash'>/usr/share/AAVMF/AAVMF_CODE.fd</loader>"));
    REQUIRE_FALSE(plan);
    CHECK_THAT(plan.error(), Catch::Contains("UEFI"));
}

TEST_CASE("boot-bypass off on arm64 needs no edd=off: EDD is x86's BIOS disk probe", "[unit][truth]")
{
    boot::GuestSpec spec = arm64_guest();
    spec.iommu.boot_bypass = false;
    const auto plan = qemu_plan(spec);
    REQUIRE(plan);
    CHECK(has(plan->args, "virtio-iommu-pci,bus=pcie.0,addr=0x3.0x0,boot-bypass=off"));
    CHECK(plan->kernel_args.empty());
}

TEST_CASE("the arm64 profiles boot on qemu-system-aarch64 with Debian's arm64 busybox", "[unit][truth]")
{
    const TruthProfile* arm = truth_profile("debian-12-6.12-arm64");
    REQUIRE(arm);
    CHECK(arm->arch == boot::Arch::kAarch64);
    CHECK(arm->qemu == "qemu-system-aarch64");
    CHECK(arm->busybox_package == "busybox-static:arm64");
    const TruthProfile* x86 = truth_profile("debian-12-6.12");
    REQUIRE(x86);
    CHECK(x86->arch == boot::Arch::kX86_64);
    CHECK(x86->busybox_package.empty());
}

TEST_CASE("an executable's architecture is its ELF header's e_machine", "[unit][truth]")
{
    std::string elf(64, '\0');
    elf.replace(0, 4, "\x7f" "ELF");
    elf[4] = 2; // ELFCLASS64
    elf[5] = 1; // ELFDATA2LSB
    elf[18] = static_cast<char>(183); // EM_AARCH64
    CHECK(elf_arch(elf) == boot::Arch::kAarch64);
    elf[18] = 62; // EM_X86_64
    CHECK(elf_arch(elf) == boot::Arch::kX86_64);
    elf[18] = 40; // EM_ARM
    CHECK_FALSE(elf_arch(elf));
    CHECK_FALSE(elf_arch("#!/bin/sh\n"));
}

TEST_CASE("the kernel options the model honours are passed as the kernel reads them", "[unit][truth]")
{
    boot::GuestSpec spec = default_guest();
    spec.cmdline.passthrough = true;
    spec.cmdline.allow_unsafe_interrupts = true;
    const auto plan = qemu_plan(spec);
    REQUIRE(plan);
    CHECK(plan->kernel_args ==
          std::vector<std::string>{"iommu.passthrough=1", "vfio_iommu_type1.allow_unsafe_interrupts=1"});
}

TEST_CASE("boot-bypass off is QEMU's virtio-iommu-pci property", "[unit][truth]")
{
    boot::GuestSpec spec = default_guest();
    spec.iommu.boot_bypass = false;
    const auto plan = qemu_plan(spec);
    REQUIRE(plan);
    CHECK(has(plan->args, "virtio-iommu-pci,bus=pcie.0,addr=0x3.0x0,boot-bypass=off"));
}

TEST_CASE("boot-bypass off skips the kernel's EDD probe, whose BIOS disk DMA would fault and hang", "[unit][truth]")
{
    boot::GuestSpec spec = default_guest();
    spec.iommu.boot_bypass = false;
    const auto plan = qemu_plan(spec);
    REQUIRE(plan);
    CHECK(plan->kernel_args == std::vector<std::string>{"edd=off"});
}

TEST_CASE("a property QEMU 7.2 lacks is refused", "[unit][truth]")
{
    boot::GuestSpec spec = default_guest();
    spec.iommu.aw_bits = 48;
    const auto plan = qemu_plan(spec);
    REQUIRE_FALSE(plan);
    CHECK_THAT(plan.error(), Catch::Contains("aw-bits"));
}

TEST_CASE("a guest behind another IOMMU is refused with why", "[unit][truth]")
{
    boot::GuestSpec spec = default_guest();
    spec.not_modelled = "<iommu model='intel'> is not modelled";
    REQUIRE_FALSE(qemu_plan(spec));
}

TEST_CASE("an iommufd VFIO user is refused: truth-probe drives type1 only", "[unit][truth]")
{
    boot::GuestSpec spec = default_guest();
    spec.vfio_backend = boot::VfioBackend::kIommufd;
    REQUIRE_FALSE(qemu_plan(spec));
}

TEST_CASE("the init hands the stand-ins' identity to truth-probe and powers off", "[unit][truth]")
{
    const std::string init = init_script({kStandInId});
    CHECK_THAT(init, Catch::Contains("/truth-probe 1234:11e8\n"));
    CHECK_THAT(init, Catch::EndsWith("poweroff -f\n"));
}

TEST_CASE("a module whose probe never returns is given 60 s, then the guest restarts without device shutdown",
          "[unit][truth]")
{
    const std::string init = init_script({kStandInId});
    CHECK_THAT(init, Catch::Contains("if [ $n -gt 600 ]; then"));
    CHECK_THAT(init, Catch::Contains(": > /hung"));
    CHECK_THAT(init, Catch::Contains("if [ -e /hung ]; then\n  sleep 2\n  echo b > /proc/sysrq-trigger\nfi\n"));
}

TEST_CASE("a newc archive entry is its 110-byte header, its name padded to 4, its data padded to 4", "[unit][truth]")
{
    CpioWriter cpio;
    cpio.file("init", "abc", true);
    const std::string out = cpio.finish();
    REQUIRE(out.rfind("070701", 0) == 0);
    CHECK(out.substr(14, 8) == "000081ed");              // mode 0100755
    CHECK(out.substr(54, 8) == "00000003");              // filesize
    CHECK(out.substr(94, 8) == "00000005");              // namesize, with its NUL
    CHECK(out.substr(110, 5) == std::string("init\0", 5));
    CHECK(out.substr(116, 3) == "abc");                  // 110 + 5 padded to 116
    CHECK(out.find("TRAILER!!!") == 120 + 110);
}
