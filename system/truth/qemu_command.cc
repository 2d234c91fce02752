#include "system/truth/qemu_command.h"

#include <fmt/format.h>

namespace viommu::system::truth {
namespace {

using boot::FunctionDesc;
using boot::Role;
using guest::pci::Kind;

bool built_in(const FunctionDesc& f)
{
    return f.source.ends_with("(built in)");
}

std::string bus_id(int index)
{
    return fmt::format("br{}", index);
}

class Planner {
public:
    explicit Planner(const boot::GuestSpec& spec) : spec_(spec) {}

    Expected<QemuPlan, std::string> run()
    {
        if (!spec_.not_modelled.empty())
            return refuse(spec_.not_modelled);
        bool q35 = false;
        bool virt = false;
        for (const FunctionDesc& f : spec_.functions) {
            q35 = q35 || (f.role == Role::kHostBridge && f.pci.label == "mch");
            virt = virt || (f.role == Role::kHostBridge && f.pci.label == "gpex-root");
        }
        if (spec_.arch == boot::Arch::kX86_64 && !q35)
            return refuse("only the q35 machine is mapped to QEMU on x86_64");
        if (spec_.arch == boot::Arch::kAarch64 && !virt)
            return refuse("only the virt machine is mapped to QEMU on aarch64");
        // QEMU hands its ACPI tables to an arm64 guest only through UEFI firmware, which the real
        // boot does not run: it loads the kernel itself, and the guest reads QEMU's device tree.
        if (spec_.arch == boot::Arch::kAarch64 && spec_.tables == boot::FirmwareTables::kAcpi)
            return refuse("an aarch64 guest under UEFI with ACPI is not booted for real: the real boot loads the "
                          "kernel without firmware, so the guest would read the device tree");
        if (spec_.vfio_backend != boot::VfioBackend::kType1Container)
            return refuse("the guest's VFIO user (truth-probe) drives only the type1 container");
        if (spec_.iommu.aw_bits || spec_.iommu.granule)
            return refuse("QEMU 7.2's virtio-iommu-pci has no aw-bits or granule property");

        plan_.args = {"-nodefaults"};
        if (spec_.arch == boot::Arch::kX86_64) {
            // libvirt's -machine for a q35 guest without KVM, and its -nodefaults: only what the XML says.
            plan_.args.insert(plan_.args.end(), {"-machine", "q35", "-accel", "tcg"});
            plan_.console = "ttyS0";
        } else {
            // virt with the GIC the XML names (<features><gic version>): with gic-version=3 QEMU 7.2's virt
            // adds an ITS under TCG too (virt_instance_init(): its=on, tcg_its unless no_tcg_its, which only
            // virt-6.1 and older set; create_its() in hw/arm/virt.c). A 64-bit CPU: virt's default,
            // cortex-a15, cannot run an arm64 kernel, and cortex-a57 is the cheapest to emulate. The
            // console is virt's PL011 UART.
            plan_.args.insert(plan_.args.end(),
                              {"-machine",
                               fmt::format("virt,gic-version={}", spec_.msi == boot::MsiController::kGicV2m ? 2 : 3),
                               "-cpu", "cortex-a57", "-accel", "tcg"});
            plan_.console = "ttyAMA0";
        }
        plan_.args.insert(plan_.args.end(), {"-m", fmt::format("{}M", spec_.ram_bytes >> 20), "-smp", "1", "-display",
                                             "none", "-no-reboot"});
        for (size_t i = 0; i < spec_.functions.size(); ++i)
            if (auto problem = device(static_cast<int>(i)); !problem.empty())
                return refuse(problem);
        kernel_args();
        return std::move(plan_);
    }

private:
    static Unexpected<std::string> refuse(std::string why) { return unexpected(std::move(why)); }

    // bus=..,addr=SS.F[,multifunction=on] of a function.
    std::string place(const FunctionDesc& f) const
    {
        // QEMU wants multifunction=on on function 0 only; Linux marks the other functions by itself.
        return fmt::format("bus={},addr={:#x}.{:#x}{}", f.parent < 0 ? "pcie.0" : bus_id(f.parent), f.pci.slot,
                           f.pci.function, f.pci.multifunction && f.pci.function == 0 ? ",multifunction=on" : "");
    }

    void add(std::string device) { plan_.args.insert(plan_.args.end(), {"-device", std::move(device)}); }

    std::string iommu_platform(const FunctionDesc& f) const { return f.iommu_platform ? ",iommu_platform=on" : ""; }

    // "" when mapped, else why not.
    std::string device(int index)
    {
        const FunctionDesc& f = spec_.functions[static_cast<size_t>(index)];
        if (f.role == Role::kHostBridge || built_in(f))
            return "";
        const std::string where = place(f);
        const std::string id = bus_id(index);
        switch (f.role) {
        case Role::kBridge:
            return bridge(f, id, where);
        case Role::kVirtioIommu:
            add(fmt::format("virtio-iommu-pci,{}{}", where, spec_.iommu.boot_bypass ? "" : ",boot-bypass=off"));
            return "";
        case Role::kVirtioNet:
            plan_.args.insert(plan_.args.end(), {"-netdev", fmt::format("user,id=net{}", index)});
            add(fmt::format("virtio-net-pci,netdev=net{},{}{}", index, where, iommu_platform(f)));
            return "";
        case Role::kVirtioBlk:
            plan_.args.insert(plan_.args.end(),
                              {"-drive", fmt::format("file={},format=raw,if=none,id=disk{}", kScratchImage, index)});
            add(fmt::format("virtio-blk-pci,drive=disk{},{}{}", index, where, iommu_platform(f)));
            return "";
        case Role::kHostdev:
            if (!f.vfio)
                return fmt::format("{}: a hostdev the guest binds to {} cannot be stood in for by an emulated "
                                   "device", f.source, f.guest_driver);
            add(fmt::format("{},{}", kStandInDevice, where));
            if (plan_.vfio_ids.empty())
                plan_.vfio_ids.push_back(kStandInId);
            plan_.notes.push_back(fmt::format("{} is stood in for by QEMU's {} ({}) at slot {:#x} function {} of {}",
                                              f.source, kStandInDevice, kStandInId, f.pci.slot, f.pci.function,
                                              f.parent < 0 ? "pcie.0" : spec_.functions[static_cast<size_t>(f.parent)].source));
            return "";
        case Role::kEmulated:
            if (f.guest_driver == "e1000e") {
                plan_.args.insert(plan_.args.end(), {"-netdev", fmt::format("user,id=net{}", index)});
                add(fmt::format("e1000e,netdev=net{},{}", index, where));
                return "";
            }
            return fmt::format("{} ({}): only e1000e among emulated devices is mapped", f.pci.label, f.source);
        case Role::kHostBridge:
        case Role::kVirtioOther:
            break;
        }
        return fmt::format("{} ({}): its QEMU device is not mapped", f.pci.label, f.source);
    }

    std::string bridge(const FunctionDesc& f, const std::string& id, const std::string& where)
    {
        const unsigned chassis = ++chassis_;
        switch (f.pci.kind) {
        case Kind::kRootPort:
            // libvirt's pcie-root-port; <model name='ioh3420'/> is the one without ACS.
            add(fmt::format("{},id={},{},chassis={},port={:#x}", f.pci.acs ? "pcie-root-port" : "ioh3420", id, where,
                            chassis, 0x10 + chassis - 1));
            return "";
        case Kind::kPcieToPciBridge:
            add(fmt::format("pcie-pci-bridge,id={},{}", id, where));
            return "";
        case Kind::kPciBridge:
            add(fmt::format("pci-bridge,id={},{},chassis_nr={}", id, where, chassis));
            return "";
        case Kind::kSwitchUpstream:
            add(fmt::format("x3130-upstream,id={},{}", id, where));
            return "";
        case Kind::kSwitchDownstream:
            add(fmt::format("xio3130-downstream,id={},{},chassis={},slot={}", id, where, chassis, chassis));
            return "";
        case Kind::kHostBridge:
        case Kind::kEndpoint:
        case Kind::kPcieEndpoint:
            break;
        }
        return fmt::format("{}: not a bridge QEMU can be given", f.pci.label);
    }

    void kernel_args()
    {
        const boot::KernelCmdline& c = spec_.cmdline;
        auto& k = plan_.kernel_args;
        if (c.passthrough)
            k.push_back(fmt::format("iommu.passthrough={}", *c.passthrough ? 1 : 0));
        if (c.strict)
            k.push_back(fmt::format("iommu.strict={}", *c.strict ? 1 : 0));
        if (c.allow_unsafe_interrupts)
            k.push_back("vfio_iommu_type1.allow_unsafe_interrupts=1");
        if (c.enable_unsafe_noiommu_mode)
            k.push_back("vfio.enable_unsafe_noiommu_mode=1");
        if (c.iommufd_allow_unsafe_interrupts)
            k.push_back("iommufd.allow_unsafe_interrupts=1");
        if (c.deferred_probe_timeout)
            k.push_back(fmt::format("deferred_probe_timeout={}", *c.deferred_probe_timeout));
        // With boot-bypass off, the kernel's real-mode setup asks the BIOS for its disks (EDD, INT 13h
        // function 48h, arch/x86/boot/edd.c) and SeaBIOS's DMA to them faults and never completes: the
        // guest hangs at "Probing EDD" with nothing on the console (seen on QEMU 7.2 with 6.12.118).
        // edd=off skips that probe; what it fills, /sys/firmware/edd, is nothing the comparison reads.
        if (spec_.arch == boot::Arch::kX86_64 && spec_.iommu.present && !spec_.iommu.boot_bypass)
            k.push_back("edd=off");
    }

    const boot::GuestSpec& spec_;
    QemuPlan plan_;
    unsigned chassis_ = 0;
};

} // namespace

Expected<QemuPlan, std::string> qemu_plan(const boot::GuestSpec& spec)
{
    return Planner(spec).run();
}

} // namespace viommu::system::truth
