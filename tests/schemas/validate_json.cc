// validate-json: checks JSON documents against a JSON Schema (draft-07, with valijson), so that the suite
// can hold what the tools really write to the schemas in docs/schemas/.
//
//   validate-json SCHEMA.json FILE...            each FILE is one JSON document
//   validate-json --lines SCHEMA.json FILE...    each non-empty line of each FILE is one (JSON Lines)
//
// Prints one line per problem on stderr ("FILE[:LINE]: <where in the document>: <what>"), and a count on
// stdout. Exit status: 0 every document is valid, 1 one is not, 2 bad usage or a file that cannot be
// read or parsed.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

namespace {

constexpr int kValid = 0;
constexpr int kInvalid = 1;
constexpr int kBadInput = 2;

bool read_file(const std::string& path, std::string& text)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "validate-json: cannot read %s\n", path.c_str());
        return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
    return true;
}

bool parse(const std::string& text, const std::string& where, nlohmann::json& doc)
{
    try {
        doc = nlohmann::json::parse(text);
        return true;
    } catch (const nlohmann::json::parse_error& e) {
        std::fprintf(stderr, "%s: not JSON: %s\n", where.c_str(), e.what());
        return false;
    }
}

// "devices/[3]/dma/result" from valijson's context ("<root>", "[devices]", "[3]", ...).
std::string pointer(const std::vector<std::string>& context)
{
    std::string out;
    for (const std::string& part : context) {
        if (part == "<root>")
            continue;
        out += (out.empty() ? "" : "/") + part;
    }
    return out.empty() ? "(the document)" : out;
}

// Returns whether the document is valid; prints each problem.
bool validate(const valijson::Schema& schema, const nlohmann::json& doc, const std::string& where)
{
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    if (validator.validate(schema, adapter, &results))
        return true;
    for (const auto& error : results)
        std::fprintf(stderr, "%s: %s: %s\n", where.c_str(), pointer(error.context).c_str(), error.description.c_str());
    return false;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    const bool lines = !args.empty() && args.front() == "--lines";
    if (lines)
        args.erase(args.begin());
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: validate-json [--lines] SCHEMA.json FILE...\n");
        return kBadInput;
    }
    std::string text;
    nlohmann::json schema_doc;
    if (!read_file(args[0], text) || !parse(text, args[0], schema_doc))
        return kBadInput;
    valijson::Schema schema;
    try {
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
        parser.populateSchema(schema_adapter, schema);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "validate-json: %s is not a schema valijson can use: %s\n", args[0].c_str(), e.what());
        return kBadInput;
    }

    int status = kValid;
    std::size_t documents = 0, invalid = 0;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (!read_file(args[i], text))
            return kBadInput;
        std::vector<std::pair<std::string, std::string>> docs; // where, text
        if (lines) {
            std::istringstream in(text);
            std::string line;
            for (std::size_t n = 1; std::getline(in, line); ++n)
                if (!line.empty())
                    docs.emplace_back(args[i] + ":" + std::to_string(n), line);
        } else {
            docs.emplace_back(args[i], text);
        }
        for (const auto& [where, body] : docs) {
            nlohmann::json doc;
            if (!parse(body, where, doc))
                return kBadInput;
            ++documents;
            if (!validate(schema, doc, where)) {
                ++invalid;
                status = kInvalid;
            }
        }
    }
    std::printf("%zu documents, %zu invalid\n", documents, invalid);
    return status;
}
