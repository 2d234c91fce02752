// libvirt domain XML -> GuestSpec: one TEST_CASE per rule. Documents go through libvirt's test driver
// (test:///default) exactly as viommu-boot's do; fixtures are shared with the integration tests
// (tests/integration/fixtures).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "system/boot/libvirt_domain.h"

using namespace viommu::system::boot;
using namespace viommu::guest;
using viommu::guest::pci::Kind;

namespace {

std::string fixture(std::string_view name)
{
    return fmt::format("{}/{}", VIOMMU_FIXTURES_DIR, name);
}

GuestSpec load(std::string_view name)
{
    auto spec = load_domain_file(fixture(name));
    INFO((spec ? std::string() : spec.error().what()));
    REQUIRE(spec);
    return std::move(spec).value();
}

// A q35 guest with ACPI whose <devices> (and <os> extras, <metadata>) the test writes.
std::string q35(std::string_view devices, std::string_view os_extra = "", std::string_view metadata = "")
{
    return fmt::format("<domain type='kvm'><name>t</name>{}<memory unit='MiB'>256</memory>"
                       "<os><type arch='x86_64' machine='q35'>hvm</type>{}</os><features><acpi/></features>"
                       "<devices>{}</devices></domain>",
                       metadata.empty() ? std::string() : fmt::format("<metadata>{}</metadata>", metadata), os_extra,
                       devices);
}

GuestSpec parse(const std::string& xml)
{
    auto spec = parse_domain_xml(xml, "test.xml");
    INFO((spec ? std::string() : spec.error().what()));
    REQUIRE(spec);
    return std::move(spec).value();
}

std::string metadata(std::string_view body)
{
    return fmt::format("<viommu:guest xmlns:viommu='{}'>{}</viommu:guest>", kMetadataNamespace, body);
}

const FunctionDesc& find(const GuestSpec& spec, std::string_view source)
{
    const auto it = std::find_if(spec.functions.begin(), spec.functions.end(),
                                 [&](const FunctionDesc& f) { return f.source == source; });
    INFO(source);
    REQUIRE(it != spec.functions.end());
    return *it;
}

int index_of(const GuestSpec& spec, std::string_view source)
{
    return static_cast<int>(&find(spec, source) - spec.functions.data());
}

// "02.0/00.0/01.0": slot.function of each function from the root bus down.
std::string path(const GuestSpec& spec, std::string_view source)
{
    std::vector<std::string> parts;
    for (int i = index_of(spec, source); i >= 0; i = spec.functions[static_cast<size_t>(i)].parent) {
        const FunctionDesc& f = spec.functions[static_cast<size_t>(i)];
        parts.insert(parts.begin(), fmt::format("{:02x}.{}", f.pci.slot, f.pci.function));
    }
    return fmt::format("{}", fmt::join(parts, "/"));
}

size_t warnings_with(const GuestSpec& spec, std::string_view text)
{
    return static_cast<size_t>(std::count_if(spec.warnings.begin(), spec.warnings.end(), [&](const std::string& w) {
        return w.find(text) != std::string::npos;
    }));
}

// Everything a GuestSpec holds, to compare two of them.
std::string dump(const GuestSpec& s)
{
    std::string out = fmt::format("{} {} {} {} iommu={},{},{} backend={} cmdline={},{},{},{},{},{}\n", s.name,
                                  static_cast<int>(s.arch), static_cast<int>(s.msi), s.ram_bytes, s.iommu.present,
                                  s.iommu.function, s.iommu.boot_bypass, static_cast<int>(s.vfio_backend),
                                  s.cmdline.passthrough.value_or(false) + 2 * s.cmdline.passthrough.has_value(),
                                  s.cmdline.strict.value_or(false) + 2 * s.cmdline.strict.has_value(),
                                  s.cmdline.allow_unsafe_interrupts, s.cmdline.enable_unsafe_noiommu_mode,
                                  s.cmdline.iommufd_allow_unsafe_interrupts, s.cmdline.deferred_probe_timeout.value_or(-99));
    for (const FunctionDesc& f : s.functions)
        out += fmt::format("{} {} {} {}.{} {} {} {} {} {} {} {}\n", f.pci.label, static_cast<int>(f.pci.kind), f.parent,
                           f.pci.slot, f.pci.function, f.pci.multifunction, f.pci.acs, role_name(f.role),
                           f.iommu_platform, f.guest_driver, f.vfio, f.source);
    for (const std::string& w : s.warnings)
        out += w + "\n";
    return out;
}

} // namespace

// ---- topology ----------------------------------------------------------------------------------------

TEST_CASE("a device's address bus='N' names the controller with index N, not a bus number", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    // Controller index 1 sits at 00:03.0 and index 2 at 00:02.0: the NIC on bus 1 is behind 00:03.0.
    CHECK(path(spec, "<interface type='user'> #1") == "03.0/00.0");
    CHECK(spec.functions[static_cast<size_t>(find(spec, "<interface type='user'> #1").parent)].source ==
          "<controller type='pci' index='1' model='pcie-root-port'>");
    CHECK(path(spec, "<hostdev> 0000:3b:00.1") == "02.0/00.0/01.0");
    CHECK(path(spec, "<disk> vda") == "02.1/00.0/00.0/00.0");
}

TEST_CASE("parents come before their children, each bus in slot and function order", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    for (size_t i = 0; i < spec.functions.size(); ++i)
        CHECK(spec.functions[i].parent < static_cast<int>(i));
    CHECK(spec.functions.front().source == "machine q35 (built in)");
    CHECK(index_of(spec, "<controller type='pci' index='2' model='pcie-root-port'>") <
          index_of(spec, "<controller type='pci' index='1' model='pcie-root-port'>"));
}

TEST_CASE("a pcie-to-pci-bridge is kPcieToPciBridge and what sits behind it a conventional endpoint", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    const FunctionDesc& bridge = find(spec, "<controller type='pci' index='4' model='pcie-to-pci-bridge'>");
    CHECK(bridge.pci.kind == Kind::kPcieToPciBridge);
    CHECK(bridge.role == Role::kBridge);
    CHECK(bridge.pci.label == "pcie-pci-bridge");
    CHECK(find(spec, "<hostdev> 0000:3b:00.1").pci.kind == Kind::kEndpoint);
}

TEST_CASE("pci-bridge and dmi-to-pci-bridge are conventional PCI-PCI bridges", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    CHECK(find(spec, "<controller type='pci' index='5' model='pci-bridge'>").pci.kind == Kind::kPciBridge);
    const FunctionDesc& dmi = find(spec, "<controller type='pci' index='6' model='dmi-to-pci-bridge'>");
    CHECK(dmi.pci.kind == Kind::kPciBridge);
    CHECK(dmi.pci.label == "i82801b11-bridge");
    CHECK(find(spec, "<rng> #1").pci.kind == Kind::kEndpoint);
}

TEST_CASE("switch ports are kSwitchUpstream and kSwitchDownstream, functions below them PCIe endpoints",
          "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    CHECK(find(spec, "<controller type='pci' index='8' model='pcie-switch-upstream-port'>").pci.kind ==
          Kind::kSwitchUpstream);
    CHECK(find(spec, "<controller type='pci' index='9' model='pcie-switch-downstream-port'>").pci.kind ==
          Kind::kSwitchDownstream);
    CHECK(find(spec, "<disk> vda").pci.kind == Kind::kPcieEndpoint);
}

TEST_CASE("a function below a root port is a PCIe endpoint, one on the root bus a conventional one", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    CHECK(find(spec, "<interface type='user'> #1").pci.kind == Kind::kPcieEndpoint);
    CHECK(find(spec, "<memballoon> #1").pci.kind == Kind::kEndpoint);
    CHECK(find(spec, "<iommu model='virtio'>").pci.kind == Kind::kEndpoint);
}

TEST_CASE("QEMU's pcie-root-port has ACS, its ioh3420 does not", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    const FunctionDesc& generic = find(spec, "<controller type='pci' index='1' model='pcie-root-port'>");
    CHECK(generic.pci.kind == Kind::kRootPort);
    CHECK(generic.pci.acs);
    const FunctionDesc& ioh = find(spec, "<controller type='pci' index='3' model='pcie-root-port'>");
    CHECK(ioh.pci.label == "ioh3420");
    CHECK_FALSE(ioh.pci.acs);
    CHECK_FALSE(find(spec, "<controller type='pci' index='9' model='pcie-switch-downstream-port'>").pci.acs);
}

TEST_CASE("q35 has the MCH host bridge at 00:00.0 and ICH9 at 00:1f", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-no-iommu-devices.xml");
    const FunctionDesc& host = spec.functions.front();
    CHECK(host.role == Role::kHostBridge);
    CHECK(host.pci.kind == Kind::kHostBridge);
    CHECK((host.pci.slot == 0 && host.pci.function == 0));
    std::vector<std::string> ich9;
    for (const FunctionDesc& f : spec.functions)
        if (f.pci.slot == 0x1f)
            ich9.push_back(fmt::format("{}.{} {}", f.pci.function, f.guest_driver, f.pci.multifunction));
    CHECK(ich9 == std::vector<std::string>{"0.lpc_ich true", "2.ahci true", "3.i801_smbus true"});
}

TEST_CASE("function 0 carries multifunction='on', Linux marks every other function multifunction", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    CHECK(find(spec, "<controller type='sata' index='1'>").pci.multifunction);
    CHECK(find(spec, "<controller type='usb' index='0' model='qemu-xhci'>").pci.multifunction);
    CHECK_FALSE(find(spec, "<memballoon> #1").pci.multifunction);
}

TEST_CASE("a function other than 0 in a slot whose function 0 is not multifunction is not seen, with a warning",
          "[unit][libvirt]")
{
    const GuestSpec spec = parse(q35("<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
                                     "<address type='pci' bus='0' slot='4' function='0'/></rng>"
                                     "<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
                                     "<address type='pci' bus='0' slot='4' function='1'/></rng>"));
    CHECK(std::none_of(spec.functions.begin(), spec.functions.end(),
                       [](const FunctionDesc& f) { return f.source == "<rng> #2"; }));
    CHECK(warnings_with(spec, "the guest would not see <rng> #2: function 0 of its slot is not multifunction") == 1);
}

TEST_CASE("below a PCIe port only device 0 is seen", "[unit][libvirt]")
{
    const GuestSpec spec =
        parse(q35("<controller type='pci' index='1' model='pcie-root-port'><address type='pci' bus='0' slot='2'/>"
                  "</controller><rng model='virtio'><backend model='random'>/dev/urandom</backend>"
                  "<address type='pci' bus='1' slot='3'/></rng>"));
    CHECK(warnings_with(spec, "the guest would not see <rng> #1: below a PCI Express port Linux scans device 0 only") ==
          1);
}

TEST_CASE("devices without a PCI address sit at the first free root-bus slot, with one warning", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-no-addresses.xml");
    CHECK(path(spec, "<disk> vda") == "01.0");
    CHECK(path(spec, "<interface type='user'> #1") == "02.0");
    CHECK(path(spec, "<hostdev> 0000:3b:00.1") == "03.0");
    CHECK(path(spec, "<iommu model='virtio'>") == "04.0");
    REQUIRE(spec.warnings.size() == 1);
    CHECK(warnings_with(spec, "libvirt's test driver assigns no PCI addresses") == 1);
}

TEST_CASE("an address on a controller index that does not exist is an error naming the device", "[unit][libvirt]")
{
    const auto spec = load_domain_file(fixture("bus-without-controller.xml"));
    REQUIRE_FALSE(spec);
    CHECK(spec.error().kind == DomainError::Kind::kUnsupported);
    CHECK(spec.error().message.find("<interface type='user'> #1 is on the bus of PCI controller index 7") == 0);
    CHECK(spec.error().what().find(fixture("bus-without-controller.xml") + ": ") == 0);
}

TEST_CASE("two functions at one address are an error", "[unit][libvirt]")
{
    const auto spec = parse_domain_xml(q35("<memballoon model='virtio'><address type='pci' bus='0' slot='3'/>"
                                           "</memballoon><rng model='virtio'><backend model='random'>/dev/urandom"
                                           "</backend><address type='pci' bus='0' slot='3'/></rng>"),
                                       "dup.xml");
    REQUIRE_FALSE(spec);
    CHECK(spec.error().kind == DomainError::Kind::kUnsupported);
    CHECK(spec.error().message.find("both sit at slot 0x03 function 0") != std::string::npos);
}

TEST_CASE("controllers plugged into each other's buses in a loop are an error", "[unit][libvirt]")
{
    const auto spec = parse_domain_xml(
        q35("<controller type='pci' index='1' model='pcie-root-port'><address type='pci' bus='2'/></controller>"
            "<controller type='pci' index='2' model='pcie-root-port'><address type='pci' bus='1'/></controller>"),
        "loop.xml");
    REQUIRE_FALSE(spec);
    CHECK(spec.error().message.find("in a loop") != std::string::npos);
}

// ---- devices -----------------------------------------------------------------------------------------

TEST_CASE("driver iommu='on' makes a virtio device use the IOMMU, without it the device bypasses it", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    CHECK(find(spec, "<interface type='user'> #1").iommu_platform);
    CHECK(find(spec, "<rng> #1").iommu_platform);
    CHECK_FALSE(find(spec, "<disk> vda").iommu_platform);
    CHECK_FALSE(find(spec, "<memballoon> #1").iommu_platform);
}

TEST_CASE("virtio-net, virtio-blk and other virtio devices get their roles", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    CHECK(find(spec, "<interface type='user'> #1").role == Role::kVirtioNet);
    CHECK(find(spec, "<disk> vda").role == Role::kVirtioBlk);
    CHECK(find(spec, "<rng> #1").role == Role::kVirtioOther);
    CHECK(find(spec, "<memballoon> #1").role == Role::kVirtioOther);
}

TEST_CASE("a virtio iommu is the IommuDesc and a function at its address, boot-bypass on", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    REQUIRE(spec.iommu.present);
    CHECK(spec.iommu.function == index_of(spec, "<iommu model='virtio'>"));
    CHECK(spec.functions[static_cast<size_t>(spec.iommu.function)].role == Role::kVirtioIommu);
    CHECK(path(spec, "<iommu model='virtio'>") == "01.0");
    CHECK(spec.iommu.boot_bypass); // libvirt 9.0 takes no <driver> options here: QEMU's default
}

TEST_CASE("a guest whose IOMMU is an intel-iommu is not modelled, naming the model and why", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-intel-iommu.xml");
    CHECK(spec.name == "q35-intel-iommu");
    CHECK(spec.not_modelled == "<iommu model='intel'> is QEMU's intel-iommu (Intel VT-d); viommu models only the "
                               "virtio-iommu, so it gives no groups, DMA or VFIO verdicts for a guest behind another "
                               "IOMMU");
    CHECK_FALSE(spec.iommu.present);
}

TEST_CASE("a guest whose IOMMU is an SMMUv3 is not modelled either", "[unit][libvirt]")
{
    const GuestSpec spec = parse("<domain type='kvm'><name>arm</name><memory unit='MiB'>256</memory><os><type "
                                 "arch='aarch64' machine='virt'>hvm</type></os><devices><iommu model='smmuv3'/>"
                                 "</devices></domain>");
    CHECK(spec.not_modelled.rfind("<iommu model='smmuv3'> is QEMU's Arm SMMUv3 (arm-smmuv3); viommu models only the "
                                  "virtio-iommu",
                                  0) == 0);
}

TEST_CASE("a guest with a virtio-iommu is modelled", "[unit][libvirt]")
{
    CHECK(load("q35-topology.xml").not_modelled.empty());
}

TEST_CASE("the virtio-iommu's properties come from viommu's metadata, named as QEMU names them", "[unit][libvirt]")
{
    const GuestSpec spec = parse(q35("<iommu model='virtio'/>", "",
                                     metadata("<viommu:iommu boot-bypass='off' aw-bits='48' granule='64k' "
                                              "device-profile='qemu-9.1'/>")));
    CHECK_FALSE(spec.iommu.boot_bypass);
    CHECK(spec.iommu.aw_bits == 48u);
    CHECK(spec.iommu.granule == 65536u);
    CHECK(spec.iommu.device_profile == "qemu-9.1");
}

TEST_CASE("packed='on' in viommu's metadata offers packed virtqueues; QEMU's default is off", "[unit][libvirt]")
{
    CHECK(parse(q35("<iommu model='virtio'/>", "", metadata("<viommu:iommu packed='on'/>"))).iommu.packed);
    CHECK_FALSE(parse(q35("<iommu model='virtio'/>")).iommu.packed);
}

TEST_CASE("boot-bypass from QEMU's -global in <qemu:commandline>, which libvirt validates but does not give back",
          "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-boot-bypass-off.xml");
    CHECK_FALSE(spec.iommu.boot_bypass);
    CHECK(spec.iommu.device_profile == "qemu-7.2");
    CHECK(spec.warnings.empty());
}

TEST_CASE("<qemu:commandline> arguments the model does not read are warned about, not dropped", "[unit][libvirt]")
{
    const GuestSpec spec = parse(
        "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>t</name><memory "
        "unit='MiB'>256</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
        "<devices><iommu model='virtio'/></devices><qemu:commandline><qemu:arg value='-global'/><qemu:arg "
        "value='virtio-iommu-pci.boot-bypass=no'/><qemu:arg value='-device'/><qemu:arg value='intel-iommu'/>"
        "<qemu:arg value='-global'/><qemu:arg value='virtio-iommu-pci.reserved-regions=x'/></qemu:commandline>"
        "</domain>");
    CHECK_FALSE(spec.iommu.boot_bypass);
    CHECK(warnings_with(spec, "<qemu:commandline>: not modelled, so without effect here: -device intel-iommu") == 1);
    CHECK(warnings_with(spec, "the virtio-iommu property 'reserved-regions' is not modelled") == 1);
}

TEST_CASE("<qemu:override> sets the IOMMU's properties by its alias, iommu0 or the user's", "[unit][libvirt]")
{
    const auto with_override = [](std::string_view iommu, std::string_view alias) {
        return parse(fmt::format(
            "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>t</name><memory "
            "unit='MiB'>256</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/>"
            "</features><devices>{}</devices><qemu:override><qemu:device alias='{}'><qemu:frontend><qemu:property "
            "name='boot-bypass' type='bool' value='false'/></qemu:frontend></qemu:device></qemu:override></domain>",
            iommu, alias));
    };
    CHECK_FALSE(with_override("<iommu model='virtio'/>", "iommu0").iommu.boot_bypass);
    CHECK_FALSE(with_override("<iommu model='virtio'><alias name='ua-viommu'/></iommu>", "ua-viommu").iommu.boot_bypass);
    const GuestSpec other = with_override("<iommu model='virtio'/>", "net0");
    CHECK(other.iommu.boot_bypass);
    CHECK(warnings_with(other, "<qemu:override>: property 'boot-bypass' of device alias 'net0' is not modelled") == 1);
}

TEST_CASE("a property value the device cannot take is refused with the reason", "[unit][libvirt]")
{
    for (const auto& [attributes, reason] :
         {std::pair{"boot-bypass='maybe'", "QEMU's boolean properties take on/off"},
          std::pair{"packed='2'", "QEMU's boolean properties take on/off"},
          std::pair{"aw-bits='8'", "the input address width is 12 to 64 bits"},
          std::pair{"granule='3k'", "QEMU's granule takes 4k, 8k, 16k, 64k or host"},
          std::pair{"granule='host'", "which viommu does not know"},
          std::pair{"device-profile='qemu-1.0'", "unknown device profile"}}) {
        const auto spec = parse_domain_xml(
            q35("<iommu model='virtio'/>", "", metadata(fmt::format("<viommu:iommu {}/>", attributes))), "test.xml");
        INFO(attributes);
        REQUIRE_FALSE(spec);
        CHECK(spec.error().kind == DomainError::Kind::kUnsupported);
        CHECK(spec.error().message.find(reason) != std::string::npos);
    }
}

TEST_CASE("libvirt 9.0's refusal of <driver> options on a virtio-iommu says how to write them instead",
          "[unit][libvirt]")
{
    const auto spec = load_domain_file(fixture("invalid-iommu-driver.xml"));
    REQUIRE_FALSE(spec);
    CHECK(spec.error().message.find("doesn't support additional attributes (libvirt 9.") != std::string::npos);
    CHECK(spec.error().message.find("<viommu:iommu boot-bypass='off' aw-bits='48' granule='4k'/>") != std::string::npos);
    CHECK(spec.error().message.find("-global") != std::string::npos);
}

TEST_CASE("the firmware's choice is warned about: only its boot-disk read is modelled", "[unit][libvirt]")
{
    std::string xml = q35("<iommu model='virtio'/>");
    xml.replace(xml.find("<os>"), 4, "<os firmware='efi'>");
    const GuestSpec spec = parse(xml);
    CHECK(warnings_with(spec, "<os firmware='efi'>: the firmware is modelled only by its read from the boot disk") == 1);
}

TEST_CASE("a split I/O APIC is warned about: it does not isolate MSIs", "[unit][libvirt]")
{
    std::string xml = q35("<iommu model='virtio'/>");
    xml.replace(xml.find("<acpi/>"), 7, "<acpi/><ioapic driver='qemu'/>");
    CHECK(warnings_with(parse(xml), "<features><ioapic driver='qemu'/>: the I/O APIC's place is not modelled") == 1);
}

TEST_CASE("ATS on a device is warned about: every DMA is translated", "[unit][libvirt]")
{
    const GuestSpec spec = parse(q35("<iommu model='virtio'/><interface type='user'><model type='virtio'/>"
                                     "<driver iommu='on' ats='on'/></interface>"));
    CHECK(warnings_with(spec, "<interface type='user'> #1 has <driver ats='on'>: ATS is not modelled") == 1);
}

TEST_CASE("a PCI hostdev's option ROM is warned about; managed= (host-side) is not", "[unit][libvirt]")
{
    const GuestSpec spec = parse(q35("<iommu model='virtio'/><hostdev mode='subsystem' type='pci' managed='no'>"
                                     "<source><address domain='0x0000' bus='0x65' slot='0x00' function='0x0'/>"
                                     "</source><rom bar='off'/></hostdev>"));
    CHECK(warnings_with(spec, "<hostdev> 0000:65:00.0 has <rom bar='off'>: its option ROM is not modelled") == 1);
    CHECK(warnings_with(spec, "managed") == 0);
}

TEST_CASE("a hostdev is a VFIO function named by its host address", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    const FunctionDesc& f = find(spec, "<hostdev> 0000:3b:00.1");
    CHECK(f.role == Role::kHostdev);
    CHECK(f.vfio);
    CHECK(f.guest_driver == "vfio-pci");
    CHECK(f.pci.label == "vfio-pci");
}

TEST_CASE("an interface type='hostdev' is a hostdev too", "[unit][libvirt]")
{
    const GuestSpec spec = parse(q35("<interface type='hostdev' managed='yes'><source><address type='pci' "
                                     "domain='0' bus='0x3b' slot='0x10' function='2'/></source>"
                                     "<address type='pci' bus='0' slot='5'/></interface>"));
    const FunctionDesc& f = find(spec, "<interface> 0000:3b:10.2");
    CHECK(f.role == Role::kHostdev);
    CHECK(f.vfio);
}

TEST_CASE("emulated devices get the Linux driver that binds to them", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-topology.xml");
    CHECK(find(spec, "<interface type='user'> #2").guest_driver == "e1000e");
    CHECK(find(spec, "<controller type='sata' index='1'>").guest_driver == "ahci");
    CHECK(find(spec, "<controller type='usb' index='0' model='qemu-xhci'>").guest_driver == "xhci_hcd");
    CHECK(find(spec, "<interface type='user'> #2").role == Role::kEmulated);
}

TEST_CASE("an i440fx guest has a conventional root bus with PIIX built in", "[unit][libvirt]")
{
    const GuestSpec spec = load("pc-i440fx.xml");
    CHECK(spec.functions.front().pci.label == "i440FX");
    CHECK(find(spec, "<interface type='user'> #1").pci.kind == Kind::kEndpoint);
    CHECK(find(spec, "<interface type='user'> #1").guest_driver == "e1000");
    CHECK(path(spec, "<hostdev> 0000:3b:00.0") == "05.0");
    std::vector<std::string> piix;
    for (const FunctionDesc& f : spec.functions)
        if (f.pci.slot == 1)
            piix.push_back(f.pci.label);
    CHECK(piix == std::vector<std::string>{"PIIX3", "piix3-ide", "PIIX4_PM"});
    CHECK(spec.warnings.empty());
}

TEST_CASE("arm virt's GIC version decides the MSI controller", "[unit][libvirt]")
{
    CHECK(load("virt-aarch64.xml").msi == MsiController::kGicV3Its);
    const auto virt = [](std::string_view features) {
        return fmt::format("<domain type='qemu'><name>a</name><memory unit='MiB'>256</memory><os>"
                           "<type arch='aarch64' machine='virt'>hvm</type></os><features><acpi/>{}</features>"
                           "<devices/></domain>",
                           features);
    };
    CHECK(parse(virt("<gic version='2'/>")).msi == MsiController::kGicV2m);
    // Without <gic>, libvirt's QEMU driver picks GICv2 for TCG (VIR_GIC_VERSION_DEFAULT).
    const GuestSpec tcg = parse(virt(""));
    CHECK(tcg.msi == MsiController::kGicV2m);
    CHECK(tcg.arch == Arch::kAarch64);
    CHECK(tcg.functions.front().pci.label == "gpex-root");
}

TEST_CASE("an aarch64 guest reads ACPI only when UEFI firmware hands it QEMU's tables", "[unit][libvirt]")
{
    const auto virt = [](std::string_view os, std::string_view features) {
        return fmt::format("<domain type='kvm'><name>a</name><memory unit='MiB'>256</memory><os{}>"
                           "<type arch='aarch64' machine='virt'>hvm</type></os><features>{}<gic version='3'/></features>"
                           "<devices/></domain>",
                           os, features);
    };
    // The fixture has <acpi/> but no firmware: QEMU boots the kernel with its device tree.
    const GuestSpec direct = load("virt-aarch64.xml");
    CHECK(direct.tables == FirmwareTables::kDeviceTree);
    CHECK(std::any_of(direct.warnings.begin(), direct.warnings.end(),
                      [](const std::string& w) { return w.starts_with("<features><acpi/> without UEFI firmware"); }));
    CHECK(load("virt-aarch64-uefi.xml").tables == FirmwareTables::kAcpi);
    CHECK(parse(virt(" firmware='efi'", "<acpi/>")).tables == FirmwareTables::kAcpi);
    // UEFI without <acpi/>: libvirt turns QEMU's ACPI off, edk2 passes the device tree on.
    const GuestSpec no_acpi = parse(virt(" firmware='efi'", ""));
    CHECK(no_acpi.tables == FirmwareTables::kDeviceTree);
    CHECK(std::none_of(no_acpi.warnings.begin(), no_acpi.warnings.end(),
                       [](const std::string& w) { return w.starts_with("<features><acpi/>"); }));
    // x86 guests always get ACPI.
    CHECK(load("q35-topology.xml").tables == FirmwareTables::kAcpi);
}

TEST_CASE("an arch or machine outside the model is an error", "[unit][libvirt]")
{
    const auto i686 = parse_domain_xml("<domain type='kvm'><name>a</name><memory>1024</memory><os>"
                                       "<type machine='q35'>hvm</type></os></domain>",
                                       "i686.xml");
    REQUIRE_FALSE(i686);
    CHECK(i686.error().kind == DomainError::Kind::kUnsupported);
    CHECK(i686.error().message.find("arch 'i686' is not modelled") == 0);
    const auto microvm = parse_domain_xml("<domain type='kvm'><name>a</name><memory>1024</memory><os>"
                                          "<type arch='x86_64' machine='microvm'>hvm</type></os></domain>",
                                          "microvm.xml");
    REQUIRE_FALSE(microvm);
    CHECK(microvm.error().message.find("machine 'microvm' on x86_64 is not modelled") == 0);
}

TEST_CASE("memory is read in bytes", "[unit][libvirt]")
{
    CHECK(load("q35-topology.xml").ram_bytes == 2ull << 30);
}

// ---- warnings ----------------------------------------------------------------------------------------

TEST_CASE("valid elements the model leaves out are warned about, one sentence each", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-unmodelled.xml");
    CHECK(warnings_with(spec, "<controller type='pci' index='1' model='pcie-expander-bus'>: extra root buses") == 1);
    CHECK(warnings_with(spec, "left out with it: <controller type='pci' index='2' model='pcie-root-port'>, "
                              "<interface type='user'> #1") == 1);
    CHECK(warnings_with(spec, "<hostdev type='usb'> #1 is not modelled") == 1);
    CHECK(warnings_with(spec, "<hostdev type='mdev'> #2 is not modelled") == 1);
    CHECK(warnings_with(spec, "<interface type='user'> #2 is not modelled: NIC model 'lan9118'") == 1);
    CHECK(warnings_with(spec, "<controller type='scsi' index='0'> is not modelled") == 1);
    CHECK(spec.warnings.size() == 5);
}

TEST_CASE("elements with no bearing on PCI or the IOMMU pass silently", "[unit][libvirt]")
{
    const GuestSpec spec = load("q35-unmodelled.xml");
    for (const char* element : {"<serial", "<console", "<graphics", "<input", "<sound", "<panic"})
        CHECK(warnings_with(spec, element) == 0);
    CHECK(find(spec, "<video> #1").guest_driver == "bochs-drm");
    CHECK(load("q35-topology.xml").warnings.empty());
}

// ---- libvirt's verdict -------------------------------------------------------------------------------

TEST_CASE("a document that fails libvirt's schema gives libvirt's message, without its last newline", "[unit][libvirt]")
{
    const auto spec = load_domain_file(fixture("invalid-schema.xml"));
    REQUIRE_FALSE(spec);
    CHECK(spec.error().kind == DomainError::Kind::kRejected);
    CHECK(spec.error().message == "XML document failed to validate against schema: Unable to validate doc against "
                                  "/usr/share/libvirt/schemas/domain.rng\nExtra element devices in interleave\n"
                                  "Element domain failed to validate content");
}

TEST_CASE("libvirt's own validation refusals are passed on word for word", "[unit][libvirt]")
{
    const auto spec = load_domain_file(fixture("invalid-iommu-driver.xml"));
    REQUIRE_FALSE(spec);
    CHECK(spec.error().kind == DomainError::Kind::kRejected);
    CHECK(spec.error().message.rfind("XML error: iommu model 'virtio' doesn't support additional attributes", 0) == 0);
}

TEST_CASE("text that is not XML gives libvirt's parser message", "[unit][libvirt]")
{
    const auto spec = load_domain_file(fixture("malformed.xml"));
    REQUIRE_FALSE(spec);
    CHECK(spec.error().kind == DomainError::Kind::kNotXml);
    CHECK(spec.error().message.find("(domain_definition):1: Opening and ending tag mismatch: devices line 1 and "
                                    "domain") == 0);
    CHECK(parse_domain_xml("", "empty.xml").error().kind == DomainError::Kind::kNotXml);
    CHECK(spec.error().message.find("(null)") == std::string::npos);
    CHECK(parse_domain_xml(std::string("\0\xff<", 3), "binary.xml").error().kind == DomainError::Kind::kNotXml);
}

TEST_CASE("an empty document's error has no \"(null)\" line where libvirt shows the document's line", "[unit][libvirt]")
{
    const auto spec = parse_domain_xml("", "empty.xml");
    REQUIRE_FALSE(spec);
    CHECK(spec.error().message == "(domain_definition):1: Document is empty");
}

TEST_CASE("an unreadable file is an error naming it", "[unit][libvirt]")
{
    const auto missing = load_domain_file(fixture("no-such-file.xml"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == DomainError::Kind::kUnreadable);
    CHECK(missing.error().what() == fixture("no-such-file.xml") + ": cannot read domain XML: No such file or directory");
    const auto directory = load_domain_file(VIOMMU_FIXTURES_DIR);
    REQUIRE_FALSE(directory);
    CHECK(directory.error().kind == DomainError::Kind::kUnreadable);
}

TEST_CASE("the domain keeps its own name, though libvirt sees a unique one", "[unit][libvirt]")
{
    const std::string xml = q35("");
    const GuestSpec first = parse(xml);
    const GuestSpec second = parse(xml); // the same name and no undefine in between would collide
    CHECK(first.name == "t");
    CHECK(second.name == "t");
    CHECK(parse(fmt::format("<domain type='kvm'><name>u</name><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>{}",
                            q35("").substr(std::string_view("<domain type='kvm'><name>t</name>").size())))
              .name == "u"); // the UUID of the test driver's own domain 'test' does not collide either
}

TEST_CASE("a document type declaration is refused before anything expands its entities", "[unit][libvirt]")
{
    // libvirt's domain XML never has a DTD; an internal one can declare an entity that a name
    // references thousands of times (a few KB that expand to gigabytes).
    const std::string body = q35("").substr(std::string_view("<domain type='kvm'><name>t</name>").size());
    std::string refs;
    for (int i = 0; i < 2000; ++i)
        refs += "&e;";
    const std::string bomb = fmt::format("<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY e '{}'>]>"
                                         "<domain type='kvm'><name>{}</name>{}",
                                         std::string(50000, 'x'), refs, body);
    const auto refused = parse_domain_xml(bomb, "bomb.xml");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == DomainError::Kind::kRejected);
    CHECK(refused.error().what() ==
          "bomb.xml: a document type declaration (DTD or entity declarations) is not domain XML; libvirt never "
          "writes one");
    // An empty DOCTYPE is refused the same way: nothing a DTD says is domain XML.
    CHECK_FALSE(parse_domain_xml("<!DOCTYPE domain><domain type='kvm'><name>t</name>" + body, "d.xml"));
}

TEST_CASE("concurrent parses from 8 threads give the specs one thread gives", "[unit][libvirt]")
{
    const std::vector<std::string> names{"q35-topology.xml", "q35-unmodelled.xml", "virt-aarch64.xml",
                                         "q35-no-addresses.xml", "pc-i440fx.xml"};
    std::vector<std::string> expected;
    for (const std::string& name : names)
        expected.push_back(dump(load(name)));
    expected.push_back(dump(parse(std::string(default_guest_xml()))));

    std::vector<std::vector<std::string>> got(8);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < got.size(); ++t)
        threads.emplace_back([&, t] {
            for (int round = 0; round < 3; ++round) {
                for (const std::string& name : names) {
                    const auto spec = load_domain_file(fixture(name));
                    got[t].push_back(spec ? dump(*spec) : spec.error().what());
                }
                const auto spec = parse_domain_xml(default_guest_xml(), kDefaultGuestSource);
                got[t].push_back(spec ? dump(*spec) : spec.error().what());
            }
        });
    for (std::thread& t : threads)
        t.join();
    for (const std::vector<std::string>& results : got) {
        REQUIRE(results.size() == 3 * expected.size());
        for (size_t i = 0; i < results.size(); ++i)
            CHECK(results[i] == expected[i % expected.size()]);
    }
}

// ---- kernel command line -----------------------------------------------------------------------------

TEST_CASE("cmdline: the IOMMU core's options are read as the kernel reads them", "[unit][libvirt][cmdline]")
{
    const GuestSpec spec = parse(q35("", "<cmdline>iommu.passthrough=1 iommu.strict=off</cmdline>"));
    CHECK(spec.cmdline.passthrough == true);
    CHECK(spec.cmdline.strict == false);
    CHECK(spec.warnings.empty());
}

TEST_CASE("cmdline: VFIO's bool module parameters take a bare name as true", "[unit][libvirt][cmdline]")
{
    const GuestSpec spec = parse(q35("", "<cmdline>vfio_iommu_type1.allow_unsafe_interrupts "
                                         "vfio.enable_unsafe_noiommu_mode=Y iommufd.allow_unsafe_interrupts=1</cmdline>"));
    CHECK(spec.cmdline.allow_unsafe_interrupts);
    CHECK(spec.cmdline.enable_unsafe_noiommu_mode);
    CHECK(spec.cmdline.iommufd_allow_unsafe_interrupts);
}

TEST_CASE("cmdline: '-' and '_' are the same in a parameter name", "[unit][libvirt][cmdline]")
{
    const GuestSpec spec = parse(q35("", "<cmdline>vfio-iommu-type1.allow-unsafe-interrupts=on "
                                         "deferred-probe-timeout=30</cmdline>"));
    CHECK(spec.cmdline.allow_unsafe_interrupts);
    CHECK(spec.cmdline.deferred_probe_timeout == 30);
}

TEST_CASE("cmdline: a value the kernel refuses is ignored with a warning", "[unit][libvirt][cmdline]")
{
    const GuestSpec spec = parse(q35("", "<cmdline>iommu.strict=maybe deferred_probe_timeout=0x10 "
                                         "iommu.passthrough</cmdline>"));
    CHECK_FALSE(spec.cmdline.strict.has_value());
    CHECK_FALSE(spec.cmdline.deferred_probe_timeout.has_value());
    CHECK_FALSE(spec.cmdline.passthrough.has_value());
    CHECK(warnings_with(spec, "'iommu.strict=maybe' is ignored") == 1);
    CHECK(warnings_with(spec, "'deferred_probe_timeout=0x10' is ignored") == 1);
    CHECK(warnings_with(spec, "'iommu.passthrough' is ignored") == 1);
}

TEST_CASE("cmdline: options the model does not know share one warning", "[unit][libvirt][cmdline]")
{
    const GuestSpec spec = parse(q35("", "<cmdline>console=ttyS0 quiet iommu.strict=1 root=/dev/vda1</cmdline>"));
    REQUIRE(spec.warnings.size() == 1);
    CHECK(spec.warnings[0] == "kernel command line: not modelled, so without effect here: console=ttyS0 quiet "
                              "root=/dev/vda1");
}

TEST_CASE("cmdline: quotes group a value and '--' ends the kernel's options", "[unit][libvirt][cmdline]")
{
    const GuestSpec spec = parse(q35("", "<cmdline>dyndbg=\"file x +p\" iommu.strict=\"0\" -- "
                                         "iommu.passthrough=1</cmdline>"));
    CHECK(spec.cmdline.strict == false);
    CHECK_FALSE(spec.cmdline.passthrough.has_value());
    CHECK(warnings_with(spec, "without effect here: dyndbg=\"file x +p\"") == 1);
}

TEST_CASE("cmdline: iommu=pt on x86 is iommu.passthrough=1", "[unit][libvirt][cmdline]")
{
    CHECK(parse(q35("", "<cmdline>iommu=pt</cmdline>")).cmdline.passthrough == true);
    CHECK(parse(q35("", "<cmdline>iommu=nopt</cmdline>")).cmdline.passthrough == false);
}

// ---- metadata ----------------------------------------------------------------------------------------

TEST_CASE("metadata names a hostdev's guest driver; it then gets no VFIO verdict", "[unit][libvirt][metadata]")
{
    const GuestSpec spec = load("q35-topology.xml");
    const FunctionDesc& f = find(spec, "<hostdev> 0000:81:00.2");
    CHECK(f.role == Role::kHostdev);
    CHECK(f.guest_driver == "mlx5_core");
    CHECK_FALSE(f.vfio);
}

TEST_CASE("metadata driver='vfio-pci' keeps a hostdev a VFIO function", "[unit][libvirt][metadata]")
{
    const GuestSpec spec = parse(q35("<hostdev mode='subsystem' type='pci'><source><address bus='0x3b' slot='0'/>"
                                     "</source><address type='pci' bus='0' slot='5'/></hostdev>",
                                     "", metadata("<viommu:hostdev source='3B:00.0' driver='vfio-pci'/>")));
    const FunctionDesc& f = find(spec, "<hostdev> 0000:3b:00.0");
    CHECK(f.vfio);
    CHECK(f.guest_driver == "vfio-pci");
    CHECK(spec.warnings.empty());
}

TEST_CASE("metadata chooses the VFIO backend", "[unit][libvirt][metadata]")
{
    CHECK(load("q35-topology.xml").vfio_backend == VfioBackend::kIommufd);
    CHECK(parse(q35("", "", metadata("<viommu:vfio backend='type1'/>"))).vfio_backend == VfioBackend::kType1Container);
    CHECK(parse(q35("", "", metadata("<viommu:vfio backend='iommufd-compat'/>"))).vfio_backend ==
          VfioBackend::kIommufdCompat);
    CHECK(parse(q35("")).vfio_backend == VfioBackend::kType1Container);
}

TEST_CASE("metadata that matches nothing or is malformed is warned about", "[unit][libvirt][metadata]")
{
    const GuestSpec spec = parse(q35("", "",
                                     metadata("<viommu:hostdev source='0000:99:00.0' driver='ixgbevf'/>"
                                              "<viommu:hostdev driver='ixgbevf'/><viommu:vfio backend='vfio'/>"
                                              "<viommu:frob/>")));
    CHECK(warnings_with(spec, "<hostdev source='0000:99:00.0'> matches no PCI host device") == 1);
    CHECK(warnings_with(spec, "a <hostdev> entry needs source=") == 1);
    CHECK(warnings_with(spec, "<vfio backend='vfio'> is none of 'type1', 'iommufd-compat' and 'iommufd'") == 1);
    CHECK(warnings_with(spec, "<frob> is not part of viommu's guest metadata") == 1);
    CHECK(spec.warnings.size() == 4);
}

TEST_CASE("other applications' metadata is none of the model's business", "[unit][libvirt][metadata]")
{
    const GuestSpec spec = parse(q35("", "", "<libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/"
                                             "domain/1.0'><libosinfo:os id='http://debian.org/debian/12'/>"
                                             "</libosinfo:libosinfo>"));
    CHECK(spec.warnings.empty());
}

// ---- the default guest -------------------------------------------------------------------------------

TEST_CASE("the default guest passes libvirt's validation and has the promised devices", "[unit][libvirt]")
{
    const GuestSpec spec = parse(std::string(default_guest_xml()));
    CHECK(spec.name == "viommu-default");
    CHECK(spec.warnings.empty());
    CHECK(spec.iommu.present);
    CHECK(find(spec, "<interface type='user'> #1").role == Role::kVirtioNet);
    CHECK(find(spec, "<interface type='user'> #1").iommu_platform);
    CHECK(find(spec, "<disk> vda").role == Role::kVirtioBlk);
    CHECK(find(spec, "<disk> vda").iommu_platform);
    CHECK(find(spec, "<hostdev> 0000:65:00.0").vfio);
    const FunctionDesc& behind_bridge = find(spec, "<hostdev> 0000:66:00.0");
    CHECK(behind_bridge.vfio);
    CHECK(spec.functions[static_cast<size_t>(behind_bridge.parent)].pci.kind == Kind::kPcieToPciBridge);
}

// ---- robustness --------------------------------------------------------------------------------------

TEST_CASE("the mapping alone survives documents libvirt never produces", "[unit][libvirt]")
{
    const std::vector<std::string> inputs{
        "",
        "<notdomain/>",
        "<domain/>",
        "<domain><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>",
        "<domain><os><type arch='x86_64' machine='q35'>hvm</type></os><devices><controller type='pci' index='999'/>"
        "</devices></domain>",
        "<domain><os><type arch='x86_64' machine='q35'>hvm</type></os><devices><disk><target bus='virtio'/>"
        "<address type='pci' bus='0x1ff' slot='99'/></disk></devices></domain>",
        "<domain><os><type arch='x86_64' machine='q35'>hvm</type></os><memory unit='EiB'>99999999999999999999"
        "</memory><devices><controller type='pci' index='1' model='pcie-root-port'><address type='pci' bus='1'/>"
        "</controller><hostdev mode='subsystem' type='pci'><source><address bus='zz'/></source></hostdev>"
        "<iommu model='virtio'/><iommu model='virtio'/></devices></domain>",
    };
    for (const std::string& in : inputs) {
        const auto spec = guest_spec_from_normalised_xml(in, "fuzz");
        INFO(in);
        if (spec)
            for (size_t i = 0; i < spec->functions.size(); ++i)
                CHECK(spec->functions[i].parent < static_cast<int>(i));
    }
    std::string many_devices = "<domain><os><type arch='x86_64' machine='q35'>hvm</type></os><devices>";
    for (int i = 0; i < 40; ++i)
        many_devices += "<rng model='virtio'/>";
    const auto full = guest_spec_from_normalised_xml(many_devices + "</devices></domain>", "fuzz");
    REQUIRE_FALSE(full);
    CHECK(full.error().message.find("the root bus has no free slot left") != std::string::npos);
}

namespace {

// A q35 guest with a virtio-iommu and the hostdev 0000:3b:00.0 at 00:05.0, and host-iommu metadata.
std::string with_host_iommu(std::string_view host_iommu, std::string_view iommu_properties = "")
{
    return q35("<iommu model='virtio'/><hostdev mode='subsystem' type='pci'><source><address bus='0x3b' slot='0'/>"
               "</source><address type='pci' bus='0' slot='5'/></hostdev>",
               "", metadata(fmt::format("{}{}", iommu_properties, host_iommu)));
}

} // namespace

TEST_CASE("metadata gives a hostdev its host IOMMU's page sizes, address width, reserved regions and coherency",
          "[unit][libvirt][metadata][host-iommu]")
{
    const GuestSpec spec = parse(with_host_iommu(
        "<viommu:host-iommu source='0000:3b:00.0' page-sizes='0x40201000' aw-bits='48' coherent='no'>"
        "<viommu:reserved start='0xfee00000' end='0xfeefffff' type='msi'/>"
        "<viommu:reserved start='0x10000000' end='0x1fffffff' type='reserved'/></viommu:host-iommu>",
        "<viommu:iommu x-noncoherent='on'/>"));
    const FunctionDesc& f = find(spec, "<hostdev> 0000:3b:00.0");
    REQUIRE(f.host_iommu);
    CHECK(f.host_iommu->page_size_mask == 0x40201000);
    CHECK(f.host_iommu->aw_bits == 48u);
    CHECK_FALSE(f.host_iommu->coherent);
    REQUIRE(f.host_iommu->reserved.size() == 2);
    CHECK(f.host_iommu->reserved[0].type == viommu::hw::virtio_iommu::ResvMemSubtype::kMsi);
    CHECK(f.host_iommu->reserved[1].range.first == viommu::Iova(0x10000000));
    CHECK(spec.iommu.x_noncoherent);
    CHECK(warnings_with(spec, "host-iommu") == 0);
}

TEST_CASE("without host-iommu metadata a hostdev has no host constraints and the extension is off",
          "[unit][libvirt][metadata][host-iommu]")
{
    const GuestSpec spec = parse(with_host_iommu(""));
    CHECK_FALSE(find(spec, "<hostdev> 0000:3b:00.0").host_iommu);
    CHECK_FALSE(spec.iommu.x_noncoherent);
}

TEST_CASE("host-iommu metadata that is malformed is refused with the reason", "[unit][libvirt][metadata][host-iommu]")
{
    for (const auto& [element, reason] : {
             std::pair{"<viommu:host-iommu source='0000:3b:00.0' page-sizes='4k'/>", "page-sizes='4k'"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0' page-sizes='0'/>", "at least one page size"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0' page-sizes='0x1ffffffffffffffff'/>", "page-sizes="},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0' aw-bits='70'/>", "12 to 64 bits"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0' coherent='maybe'/>", "'yes' or 'no'"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0' granule='4k'/>", "no attribute 'granule'"},
             std::pair{"<viommu:host-iommu source='3b:00'/>", "host PCI address"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0'><viommu:window/></viommu:host-iommu>",
                       "<window> is unknown here"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0'><viommu:reserved start='0x2000' end='0x1000' "
                       "type='reserved'/></viommu:host-iommu>",
                       "ends before it starts"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0'><viommu:reserved start='0x1000' end='0x2fff' "
                       "type='reserved'/><viommu:reserved start='0x2000' end='0x3fff' type='msi'/></viommu:host-iommu>",
                       "overlaps 0x1000-0x2fff"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0'><viommu:reserved start='0x1000' end='0x2fff' "
                       "type='direct'/></viommu:host-iommu>",
                       "'reserved' or 'msi'"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0'><viommu:reserved start='0x1000'/></viommu:host-iommu>",
                       "needs start and end"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0'/><viommu:host-iommu source='0000:3b:00.0'/>",
                       "a second entry for the same hostdev"},
             std::pair{"<viommu:host-iommu source='0000:99:00.0'/>", "matches no PCI host device"},
             std::pair{"<viommu:host-iommu source='0000:99:00.0' hotplug='later'/>", "hotplug='later': 'yes' or 'no'"},
             std::pair{"<viommu:host-iommu source='0000:3b:00.0' hotplug='yes'/>", "the domain assigns it at boot"},
         }) {
        const auto spec = parse_domain_xml(with_host_iommu(element), "test.xml");
        INFO(element);
        REQUIRE_FALSE(spec);
        CHECK(spec.error().kind == DomainError::Kind::kUnsupported);
        CHECK_THAT(spec.error().message, Catch::Contains(reason));
    }
}

TEST_CASE("host-iommu with hotplug='yes' describes a host function for device_add, not a hostdev of the domain",
          "[unit][libvirt][metadata][host-iommu]")
{
    const GuestSpec spec = parse(with_host_iommu(
        "<viommu:host-iommu source='0000:66:00.0' hotplug='yes' page-sizes='0x10000'>"
        "<viommu:reserved start='0x10000000' end='0x1fffffff' type='reserved'/></viommu:host-iommu>"));
    REQUIRE(spec.hotplug_hosts.size() == 1);
    CHECK(spec.hotplug_hosts[0].address.to_string() == "0000:66:00.0");
    CHECK(spec.hotplug_hosts[0].host_iommu.page_size_mask == 0x10000);
    CHECK(spec.hotplug_hosts[0].host_iommu.reserved.size() == 1);
    CHECK_FALSE(find(spec, "<hostdev> 0000:3b:00.0").host_iommu);
    CHECK(warnings_with(spec, "host-iommu") == 0);
}

TEST_CASE("x-noncoherent takes QEMU's booleans", "[unit][libvirt][metadata][host-iommu]")
{
    const auto spec = parse_domain_xml(with_host_iommu("", "<viommu:iommu x-noncoherent='perhaps'/>"), "test.xml");
    REQUIRE_FALSE(spec);
    CHECK_THAT(spec.error().message, Catch::Contains("x-noncoherent='perhaps'"));
}
