// The libvirt half of the front end: validation by the test driver, and the normalised XML it gives back.
#include "system/boot/libvirt_domain.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/relaxng.h>
#include <libxml/xmlschemastypes.h>

#include "base/input_file.h"
#include "system/boot/domain_schema.h"
#include "system/boot/embedded_guest.h"
#include "system/boot/libvirt_mapper.h"
#include "system/boot/libxml.h"

namespace viommu::system::boot {

std::string DomainError::what() const
{
    return fmt::format("{}: {}", source, message);
}

std::string_view default_guest_xml()
{
    return embedded::default_guest_xml_text();
}

namespace {

// libvirt's default error handler prints every error to stderr; the caller prints the one that matters.
void ignore_error(void*, virErrorPtr) {}

// libvirt's XML parse error (catchXMLError() in src/util/virxml.c) is "FILE:LINE: MESSAGE", the
// document's line at the error and a "----^" under the column. For a document with no line there (an
// empty file) the line is a NULL string, which glibc's printf writes as "(null)": that line and its
// pointer say nothing and go. The schema's messages end with a newline, which would print as a blank
// line after the message.
std::string without_empty_context(std::string message)
{
    std::string out;
    std::size_t start = 0;
    bool drop_pointer = false;
    while (start < message.size()) {
        const std::size_t end = std::min(message.find('\n', start), message.size());
        const std::string_view line(message.data() + start, end - start);
        const bool pointer = !line.empty() && line.back() == '^' &&
                             line.find_first_not_of('-') == line.size() - 1;
        if (line == "(null)")
            drop_pointer = true;
        else if (!(drop_pointer && pointer)) {
            drop_pointer = false;
            out.append(line).append("\n");
        }
        start = end + 1;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
        out.pop_back();
    return out;
}

std::string last_libvirt_error()
{
    const char* m = virGetLastErrorMessage(); // thread-local, never NULL
    return m ? without_empty_context(m) : "unknown libvirt error";
}

// One connection to the test driver for the whole process. test:///default is in-process and its state
// is shared by every connection of the process anyway (test_driver.c defaultPrivconn); holding one
// keeps that state, which opening builds from a default XML, alive between parses.
class TestDriver {
public:
    static const TestDriver& get()
    {
        static const TestDriver driver;
        return driver;
    }
    TestDriver(const TestDriver&) = delete;
    TestDriver& operator=(const TestDriver&) = delete;
    ~TestDriver()
    {
        if (conn_)
            virConnectClose(conn_);
    }

    virConnectPtr conn() const { return conn_; }
    const std::string& open_error() const { return open_error_; }

private:
    TestDriver()
    {
        // The handler is process-global (virSetErrorFunc); set before the first call that can fail.
        virSetErrorFunc(nullptr, ignore_error);
        // Every define validates against libvirt's RelaxNG schema, and libxml2 (2.9.14, Debian 12) fills
        // its tables of RelaxNG and XML Schema datatypes lazily, unlocked, on the first schema parse:
        // two batch threads parsing at once could see a half-filled table and refuse a valid guest with
        // "Error type 'unsignedInt' is not exported by type library" (libxml2 issue #930; 2.12 moved the
        // set-up into xmlInitParser()). Fill them here, once, while no other thread parses.
        xmlInitParser();
        xmlSchemaInitTypes();
        xmlRelaxNGInitTypes();
        if (virInitialize() < 0 || !(conn_ = virConnectOpen("test:///default")))
            open_error_ = last_libvirt_error();
    }

    virConnectPtr conn_ = nullptr;
    std::string open_error_;
};

struct DomainFree {
    void operator()(virDomain* d) const { virDomainFree(d); }
};
using Domain = std::unique_ptr<virDomain, DomainFree>;

struct CFree {
    void operator()(char* p) const { std::free(p); }
};

// Defines xml on the test driver, returns its normalised XML and undefines it again. flags:
// VIR_DOMAIN_DEFINE_VALIDATE for libvirt's own schema check, 0 when the document has passed it already.
Expected<std::string, std::string> define_and_read_back(const TestDriver& driver, const std::string& xml,
                                                        unsigned flags = VIR_DOMAIN_DEFINE_VALIDATE)
{
    const Domain dom(virDomainDefineXMLFlags(driver.conn(), xml.c_str(), flags));
    if (!dom)
        return unexpected(last_libvirt_error());
    const std::unique_ptr<char, CFree> desc(virDomainGetXMLDesc(dom.get(), VIR_DOMAIN_XML_INACTIVE));
    std::string error = desc ? std::string() : last_libvirt_error();
    if (virDomainUndefine(dom.get()) < 0 && error.empty())
        error = last_libvirt_error();
    if (!error.empty())
        return unexpected(std::move(error));
    return std::string(desc.get());
}

// The schema libvirt validates domains against, with the words libvirt puts before the validator's
// messages, both read from libvirt's own refusal of a document the schema cannot accept; used only if a
// copy parsed here refuses that document with the very same message. Otherwise (another libvirt, another
// message format) every define validates in libvirt, as before.
std::optional<std::pair<std::string, std::string>> calibrate(const TestDriver& driver)
{
    static constexpr char kProbe[] = "<domain type='test'><name>viommu-schema-probe</name><memory>1</memory>"
                                     "<os><type>hvm</type></os><viommu-schema-probe/></domain>";
    static constexpr std::string_view kAgainst = "Unable to validate doc against ";
    const auto refused = define_and_read_back(driver, kProbe);
    if (refused)
        return std::nullopt;
    const char* raw = virGetLastErrorMessage();
    const std::string message = raw ? raw : "";
    const std::size_t at = message.find(kAgainst);
    const std::size_t newline = at == std::string::npos ? at : message.find('\n', at);
    if (newline == std::string::npos)
        return std::nullopt;
    std::string path = message.substr(at + kAgainst.size(), newline - at - kAgainst.size());
    std::string prefix = message.substr(0, newline + 1);
    const auto schema = DomainSchema::load(path, prefix);
    const xml::Doc probe = xml::parse(kProbe);
    if (!schema || !probe || schema->refusal(probe.get()) != message)
        return std::nullopt;
    return std::pair{std::move(path), std::move(prefix)};
}

// This thread's copy of libvirt's domain schema (a parsed RelaxNG schema is used by one validator at a
// time here, so each batch thread has its own); nullptr when calibrate() found it unusable.
const DomainSchema* domain_schema(const TestDriver& driver)
{
    static const auto calibrated = calibrate(driver);
    if (!calibrated)
        return nullptr;
    thread_local const auto schema = DomainSchema::load(calibrated->first, calibrated->second);
    return schema ? &*schema : nullptr;
}

// The test driver holds every defined domain in one per-process list, keyed by name and UUID, so two
// documents (or one document twice) parsed at the same time would collide: each define gets its own
// name (the document's, with a suffix, so that libvirt still checks the name itself) and no UUID
// (libvirt generates one). Returns the document to define; original_name receives the document's name.
std::string with_unique_name(xmlDoc* doc, std::string& original_name)
{
    static std::atomic<unsigned long> counter{0};
    xmlNode* root = xmlDocGetRootElement(doc);
    if (xml::is_element(root, "domain")) {
        std::vector<xmlNode*> uuids;
        for (xmlNode* c = root->children; c; c = c->next) {
            if (xml::is_element(c, "uuid"))
                uuids.push_back(c);
            else if (xml::is_element(c, "name") && original_name.empty())
                original_name = xml::text(c);
        }
        for (xmlNode* c : uuids) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        // An empty name stays empty: libvirt's refusal of it is the answer.
        if (xmlNode* name = const_cast<xmlNode*>(xml::first_child(root, "name")); name && !original_name.empty()) {
            const std::string unique = fmt::format("{}~viommu{}", original_name, counter.fetch_add(1));
            xmlNodeSetContent(name, nullptr);
            xmlNodeAddContent(name, BAD_CAST unique.c_str()); // text, not markup: no entity parsing
        }
    }
    xmlChar* out = nullptr;
    int size = 0;
    xmlDocDumpMemory(doc, &out, &size);
    std::string text = out ? std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(size)) : std::string();
    xmlFree(out);
    return text;
}

// "9.0.0": the libvirt library this process runs.
std::string libvirt_version()
{
    unsigned long version = 0;
    if (virGetVersion(&version, nullptr, nullptr) < 0)
        return "of this host";
    return fmt::format("{}.{}.{}", version / 1000000, version / 1000 % 1000, version % 1000);
}

// libvirt's refusal, with what a user who wrote the virtio-iommu's properties as <driver> attributes
// can write instead: libvirt 9.0's virDomainIOMMUDefValidate() refuses every <driver> attribute on
// model='virtio'; later libvirt takes aw_bits and a granule (2eea8e382993 "qemu_validate: Check whether
// granule of virtio-iommu is supported"), but validation here is the installed libvirt's.
std::string with_hint(std::string message)
{
    if (message.find("iommu model 'virtio' doesn't support additional attributes") == std::string::npos)
        return message;
    return fmt::format("{} (libvirt {} takes no <driver> options on a virtio-iommu; libvirt releases after 9.0 take "
                       "aw_bits and granule there. Here, write the device's properties as viommu metadata, "
                       "<viommu:iommu boot-bypass='off' aw-bits='48' granule='4k'/>, or on QEMU's command line, "
                       "<qemu:commandline><qemu:arg value='-global'/><qemu:arg "
                       "value='virtio-iommu-pci.boot-bypass=off'/></qemu:commandline>; docs/boot.md)",
                       message, libvirt_version());
}

} // namespace

Expected<GuestSpec, DomainError> parse_domain_xml(std::string_view xml_text, std::string_view source, SchemaCheck check)
{
    const auto error = [&](DomainError::Kind kind, std::string message) {
        return unexpected(DomainError{kind, std::string(source), std::move(message)});
    };
    const TestDriver& driver = TestDriver::get();
    if (!driver.conn())
        return error(DomainError::Kind::kLibvirtUnavailable,
                     fmt::format("cannot open libvirt's test driver (test:///default): {}", driver.open_error()));

    const xml::Doc doc = xml::parse(xml_text);
    if (!doc) {
        // Not XML: libvirt's own message names line and column, so ask libvirt for it. It fails on
        // parsing, before anything is defined; should it ever accept the text, undo that.
        const auto libvirt = define_and_read_back(driver, std::string(xml_text));
        return error(DomainError::Kind::kNotXml, libvirt ? "not well-formed XML" : libvirt.error());
    }
    // libvirt writes no DOCTYPE into domain XML; an internal subset can declare entities whose references
    // expand to gigabytes wherever the document is read with substitution (the name, below).
    if (doc.get()->intSubset || doc.get()->extSubset)
        return error(DomainError::Kind::kRejected, "a document type declaration (DTD or entity declarations) is not "
                                                   "domain XML; libvirt never writes one");
    std::string original_name;
    const std::string unique = with_unique_name(doc.get(), original_name);
    // libvirt checks the root element's name before the schema (virXMLParseHelper()): only a <domain>
    // takes the shortcut, so that any other root gets libvirt's own answer.
    const DomainSchema* schema =
        check == SchemaCheck::kParsedOnce && xml::is_element(xmlDocGetRootElement(doc.get()), "domain")
            ? domain_schema(driver)
            : nullptr;
    if (schema)
        if (auto refusal = schema->refusal(doc.get()))
            return error(DomainError::Kind::kRejected, with_hint(without_empty_context(std::move(*refusal))));
    const auto normalised = define_and_read_back(driver, unique, schema ? 0 : VIR_DOMAIN_DEFINE_VALIDATE);
    if (!normalised)
        return error(DomainError::Kind::kRejected, with_hint(normalised.error()));
    auto spec = domain_map::map_domain(*normalised, xmlDocGetRootElement(doc.get()), source);
    if (spec)
        spec->name = original_name;
    return spec;
}

bool schema_parsed_once_available()
{
    const TestDriver& driver = TestDriver::get();
    return driver.conn() && domain_schema(driver);
}

Expected<GuestSpec, DomainError> load_domain_file(const std::string& path)
{
    // virsh reads at most 10 MiB of XML (tools/vsh.h VSH_MAX_XML_FILE); so does viommu.
    constexpr size_t kMaxXml = 10 * 1024 * 1024;
    const auto error = [&](std::string message) {
        return unexpected(DomainError{DomainError::Kind::kUnreadable, path, std::move(message)});
    };
    const auto text = read_input_file(path, kMaxXml);
    if (!text && text.error().too_large)
        return error(fmt::format("{}, more than virsh reads as domain XML", text.error().reason));
    if (!text)
        return error(fmt::format("cannot read domain XML: {}", text.error().reason));
    return parse_domain_xml(*text, path);
}

} // namespace viommu::system::boot
