#include "system/boot/libxml.h"

#include <climits>
#include <mutex>

namespace viommu::system::boot::xml {

Doc parse(std::string_view text)
{
    // xmlInitParser() must run once before threads parse concurrently (libxml2's "Thread safety"
    // notes); later calls are no-ops, the once-flag makes the first one race-free.
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
    if (text.size() > static_cast<size_t>(INT_MAX))
        return nullptr;
    return Doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

bool is_element(const xmlNode* n, const char* name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns == nullptr && xmlStrEqual(n->name, BAD_CAST name);
}

const xmlNode* first_child(const xmlNode* n, const char* name)
{
    if (!n)
        return nullptr;
    for (const xmlNode* c = n->children; c; c = c->next)
        if (is_element(c, name))
            return c;
    return nullptr;
}

std::vector<const xmlNode*> children(const xmlNode* n, const char* name)
{
    std::vector<const xmlNode*> out;
    if (!n)
        return out;
    for (const xmlNode* c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns == nullptr && (!name || xmlStrEqual(c->name, BAD_CAST name)))
            out.push_back(c);
    return out;
}

std::optional<std::string> attr(const xmlNode* n, const char* name)
{
    if (!n)
        return std::nullopt;
    xmlChar* v = xmlGetNoNsProp(n, BAD_CAST name);
    if (!v)
        return std::nullopt;
    std::string out(reinterpret_cast<const char*>(v));
    xmlFree(v);
    return out;
}

std::string attr_or(const xmlNode* n, const char* name, std::string_view fallback)
{
    std::optional<std::string> v = attr(n, name);
    return v ? *v : std::string(fallback);
}

std::string text(const xmlNode* n)
{
    if (!n)
        return {};
    xmlChar* v = xmlNodeGetContent(n);
    if (!v)
        return {};
    std::string out(reinterpret_cast<const char*>(v));
    xmlFree(v);
    return out;
}

std::string name(const xmlNode* n)
{
    return n && n->name ? std::string(reinterpret_cast<const char*>(n->name)) : std::string();
}

} // namespace viommu::system::boot::xml
