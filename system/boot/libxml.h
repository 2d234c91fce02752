// The little of libxml2 the libvirt front end uses: owning handles and element/attribute access.
// Internal to system/boot.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/parser.h>
#include <libxml/tree.h>

namespace viommu::system::boot::xml {

struct DocFree {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

// Parses without network access and without libxml2 printing anything (XML_PARSE_NOERROR,
// XML_PARSE_NOWARNING); nullptr when the text is not well-formed XML. Safe on any thread (libxml2 is
// initialised once, before the first parse).
Doc parse(std::string_view text);

// libvirt's elements carry no namespace; an element of another namespace with the same local name
// (inside <metadata>) is not one of them.
bool is_element(const xmlNode* n, const char* name);
const xmlNode* first_child(const xmlNode* n, const char* name);
// The namespace-less child elements, all of them when name is nullptr.
std::vector<const xmlNode*> children(const xmlNode* n, const char* name = nullptr);
std::optional<std::string> attr(const xmlNode* n, const char* name);
std::string attr_or(const xmlNode* n, const char* name, std::string_view fallback);
std::string text(const xmlNode* n);
std::string name(const xmlNode* n);

} // namespace viommu::system::boot::xml
