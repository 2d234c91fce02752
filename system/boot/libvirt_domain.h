// libvirt domain XML -> GuestSpec: the front end of viommu-boot.
//
// libvirt itself decides whether a document is a valid domain: parse_domain_xml() defines it on the
// in-process test driver (test:///default) with VIR_DOMAIN_DEFINE_VALIDATE (the RelaxNG schema plus
// libvirt's own parser and generic validation), reads libvirt's normalised XML back and builds the
// guest from that with libxml2. libvirt's refusal is returned word for word.
//
// What the test driver does not do (libvirt 9.0, /work/research/bridge-and-libvirt.md §2.5): it assigns
// no PCI addresses and adds no controllers. Devices without an address are placed at the first free
// slot of the root bus, as QEMU does for a -device without addr=, with a warning; libvirt's QEMU
// driver would plug them into new pcie-root-ports instead. docs/boot.md lists every element and what
// the model does with it.
//
// Thread safety: any number of threads may parse at once. The test driver keeps one state per process;
// every define gets a name of its own (the document's <name> is replaced, its <uuid> dropped, and the
// domain undefined again), and libvirt's public API is thread-safe: the test driver's domain list is
// self-locking (src/test/test_driver.c, struct _testDriver: "immutable pointer, self-locking APIs"),
// errors are thread-local (virGetLastErrorMessage). So libvirt calls are not serialised.
#pragma once

#include <string>
#include <string_view>

#include "base/expected.h"
#include "system/boot/guest_spec.h"

namespace viommu::system::boot {

struct DomainError {
    enum class Kind {
        kUnreadable,        // the file could not be read
        kNotXml,            // not well-formed XML (message: libvirt's, which names line and column)
        kRejected,          // libvirt refused the domain (message: libvirt's, as is)
        kUnsupported,       // valid for libvirt, but nothing viommu can model (machine, arch, topology)
        kLibvirtUnavailable // test:///default could not be opened
    };
    Kind kind = Kind::kRejected;
    std::string source;  // the file name, or what the caller named the text
    std::string message; // libvirt's own message for kNotXml and kRejected

    // "SOURCE: MESSAGE", what a command line prints.
    std::string what() const;
};

// The namespace of viommu's <metadata> element, for what libvirt XML cannot say:
//   <metadata>
//     <viommu:guest xmlns:viommu='https://viommu.dev/xmlns/guest/1'>
//       <viommu:vfio backend='type1|iommufd-compat|iommufd'/>
//       <viommu:hostdev source='0000:3b:00.1' driver='vfio-pci|DRIVER'/>
//     </viommu:guest>
//   </metadata>
// A <hostdev> (or <interface type='hostdev'>) is a VFIO function by default: the guest's user binds
// vfio-pci to it (FunctionDesc::vfio, guest_driver "vfio-pci"). driver='NAME' says the guest binds its
// own kernel driver NAME instead and the function gets no VFIO verdict.
inline constexpr std::string_view kMetadataNamespace = "https://viommu.dev/xmlns/guest/1";

// Who checks a document against libvirt's domain schema: a copy of the schema parsed once per thread
// (the default; libvirt itself when this host's libvirt answers differently, see domain_schema.h), or
// libvirt on every define, which parses the schema each time. The two give the same answers.
enum class SchemaCheck { kParsedOnce, kLibvirtEachTime };
// Whether kParsedOnce can be used on this host (otherwise it means kLibvirtEachTime).
[[nodiscard]] bool schema_parsed_once_available();

// Validates xml with libvirt and builds the guest it describes. source names the text in errors and in
// the GuestSpec's warnings ("guest.xml"). GuestSpec::name is the document's <name>.
[[nodiscard]] Expected<GuestSpec, DomainError> parse_domain_xml(std::string_view xml, std::string_view source,
                                                                SchemaCheck check = SchemaCheck::kParsedOnce);
// The same for a file; source is the path.
[[nodiscard]] Expected<GuestSpec, DomainError> load_domain_file(const std::string& path);

// Builds the guest from XML that libvirt has already normalised (virDomainGetXMLDesc), without asking
// libvirt: for fuzzing and for tests of the mapping alone. Any input is safe; the result for one that
// libvirt would refuse is whatever the mapping makes of it.
[[nodiscard]] Expected<GuestSpec, DomainError> guest_spec_from_normalised_xml(std::string_view xml,
                                                                              std::string_view source);

// The guest viommu-boot boots when given no file (default_guest.xml, compiled in): q35, a virtio-iommu,
// virtio-net and virtio-blk with iommu='on', two VFIO hostdevs, one of them behind a pcie-to-pci-bridge.
std::string_view default_guest_xml();
inline constexpr std::string_view kDefaultGuestSource = "(built-in default guest)";

} // namespace viommu::system::boot
