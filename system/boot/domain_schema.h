// libvirt's RelaxNG check of a domain document, parsed once per thread instead of once per document.
// Internal to system/boot.
//
// virDomainDefineXMLFlags(VIR_DOMAIN_DEFINE_VALIDATE) parses libvirt's domain.rng (about 200 KB of
// RelaxNG across a dozen files) on every call (virXMLValidateAgainstSchema() builds a validator per
// document), which is most of what defining a small domain costs. The same schema file, parsed here once
// and given to libxml2's validator with libvirt's error collection, refuses exactly the documents libvirt
// refuses, with the same message (see calibrate() in libvirt_domain.cc, which checks that on this host's
// libvirt before the copy is used).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <libxml/relaxng.h>
#include <libxml/tree.h>

namespace viommu::system::boot {

class DomainSchema {
public:
    // The schema at path; nullopt when libxml2 cannot parse it. message_prefix is what libvirt writes
    // before the validator's own messages ("XML document failed to validate against schema: Unable to
    // validate doc against PATH\n" in libvirt 9.0).
    static std::optional<DomainSchema> load(const std::string& path, std::string message_prefix);

    // libvirt's message for a document the schema refuses; nullopt when it is valid.
    std::optional<std::string> refusal(xmlDoc* doc) const;

private:
    struct SchemaFree {
        void operator()(xmlRelaxNG* s) const { xmlRelaxNGFree(s); }
    };
    DomainSchema(xmlRelaxNG* schema, std::string message_prefix);

    std::unique_ptr<xmlRelaxNG, SchemaFree> schema_;
    std::string message_prefix_;
};

} // namespace viommu::system::boot
