#include "system/boot/domain_schema.h"

#include <cstdarg>
#include <cstdio>

namespace viommu::system::boot {

namespace {

// The schema's own diagnostics while it is parsed: libvirt's are not shown either.
void ignore(void*, const char*, ...) {}

// libvirt's virXMLValidatorValidationError(): every error and warning of the validator, formatted and
// appended as it comes, no separator added (libxml2's messages end with their own newline).
void append(void* ctx, const char* format, ...)
{
    auto* out = static_cast<std::string*>(ctx);
    va_list args;
    va_start(args, format);
    va_list again;
    va_copy(again, args);
    const int n = std::vsnprintf(nullptr, 0, format, args);
    va_end(args);
    if (n > 0) {
        const std::size_t at = out->size();
        out->resize(at + static_cast<std::size_t>(n) + 1);
        std::vsnprintf(out->data() + at, static_cast<std::size_t>(n) + 1, format, again);
        out->resize(at + static_cast<std::size_t>(n));
    }
    va_end(again);
}

} // namespace

DomainSchema::DomainSchema(xmlRelaxNG* schema, std::string message_prefix)
    : schema_(schema), message_prefix_(std::move(message_prefix))
{
}

std::optional<DomainSchema> DomainSchema::load(const std::string& path, std::string message_prefix)
{
    xmlRelaxNGParserCtxt* parser = xmlRelaxNGNewParserCtxt(path.c_str());
    if (!parser)
        return std::nullopt;
    xmlRelaxNGSetParserErrors(parser, ignore, ignore, nullptr);
    xmlRelaxNG* schema = xmlRelaxNGParse(parser);
    xmlRelaxNGFreeParserCtxt(parser);
    if (!schema)
        return std::nullopt;
    return DomainSchema(schema, std::move(message_prefix));
}

std::optional<std::string> DomainSchema::refusal(xmlDoc* doc) const
{
    xmlRelaxNGValidCtxt* validator = xmlRelaxNGNewValidCtxt(schema_.get());
    if (!validator)
        return message_prefix_ + "out of memory";
    std::string messages;
    xmlRelaxNGSetValidErrors(validator, append, append, &messages);
    const int result = xmlRelaxNGValidateDoc(validator, doc);
    xmlRelaxNGFreeValidCtxt(validator);
    if (result == 0)
        return std::nullopt;
    return message_prefix_ + messages;
}

} // namespace viommu::system::boot
