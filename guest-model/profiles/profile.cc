#include "guest-model/profiles/profile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "base/input_file.h"
#include "guest-model/profiles/embedded_data.h"
#include "guest-model/profiles/json_read.h"

namespace viommu::guest::profiles {
namespace {

using json_read::Json;
using json_read::Object;

constexpr std::string_view kProfilesSource = "guest-model/profiles/data/profiles.json";

// "compare": the built-in profiles --compare-kernels shows, in its order. Each must name a built-in
// profile, once, so that a comparison never fails half-way through on a typo in the data.
Expected<void, std::string> check_compare(const Object& root)
{
    if (!root.has("compare"))
        return {};
    const Json& list = root.json().at("compare");
    if (!list.is_array())
        return unexpected(root.error("compare", "expected an array of built-in profile names"));
    const Json& profiles = root.json().at("profiles");
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string at = fmt::format("compare[{}]", i);
        if (!list[i].is_string())
            return unexpected(root.error(at, "expected a built-in profile name"));
        const auto name = list[i].get<std::string>();
        if (!profiles.contains(name))
            return unexpected(root.error(at, fmt::format("\"{}\" is not a built-in profile", name)));
        for (size_t j = 0; j < i; ++j)
            if (list[j] == list[i])
                return unexpected(root.error(at, fmt::format("\"{}\" is listed twice", name)));
    }
    return {};
}

// "default": {"x86_64": NAME, "aarch64": NAME}, the profile each architecture's guests boot when none is
// chosen: a built-in profile of that architecture, so that a guest never boots a kernel it cannot run.
Expected<void, std::string> check_default(const Object& root)
{
    auto defaults = root.object("default");
    if (!defaults)
        return unexpected(defaults.error());
    if (auto ok = defaults->check_keys({"x86_64", "aarch64"}); !ok)
        return unexpected(ok.error());
    const Json& profiles = root.json().at("profiles");
    for (const Arch arch : {Arch::kX86_64, Arch::kAarch64}) {
        const std::string key(arch_name(arch));
        auto name = defaults->string(key);
        if (!name)
            return unexpected(name.error());
        const auto it = profiles.find(*name);
        if (it == profiles.end() || !it->is_object() || it->value("arch", "") != key)
            return unexpected(defaults->error(key, fmt::format("\"{}\" is not a built-in {} profile", *name, key)));
    }
    return {};
}

// data/profiles.json, parsed once. A broken built-in file is a build bug (a test parses it).
const Json& builtin_document()
{
    static const Json doc = [] {
        auto parsed = json_read::parse(embedded::profiles_json(), kProfilesSource);
        if (!parsed)
            throw std::logic_error(parsed.error());
        const Object root(*parsed, std::string(kProfilesSource), "");
        if (auto ok = root.check_keys({"defaults", "default", "compare", "profiles"}); !ok)
            throw std::logic_error(ok.error());
        if (auto profiles = root.object("profiles"); !profiles)
            throw std::logic_error(profiles.error());
        if (auto ok = check_compare(root); !ok)
            throw std::logic_error(ok.error());
        if (auto ok = check_default(root); !ok)
            throw std::logic_error(ok.error());
        return std::move(*parsed);
    }();
    return doc;
}

// "CONFIG_X": "y" | "m" | "n" | a number or string; every key must look like a Kconfig symbol.
Expected<void, std::string> read_config(const Object& o, std::map<std::string, std::string, std::less<>>& config)
{
    for (const auto& [key, value] : o.json().items()) {
        if (!key.starts_with("CONFIG_"))
            return unexpected(o.error(key, "configuration keys are Kconfig symbols starting with CONFIG_"));
        if (!value.is_string())
            return unexpected(o.error(key, fmt::format("expected a string (\"y\", \"m\", \"n\" or a value), found {}",
                                                       value.type_name())));
        config[key] = value.get<std::string>();
    }
    return {};
}

Expected<void, std::string> read_defaults(std::map<std::string, std::string, std::less<>>& config)
{
    const Json& doc = builtin_document();
    if (!doc.contains("defaults"))
        return {};
    const Object root(doc, std::string(kProfilesSource), "");
    auto defaults = root.object("defaults");
    if (!defaults)
        return unexpected(defaults.error());
    if (auto ok = defaults->check_keys({"config"}); !ok)
        return unexpected(ok.error());
    auto config_object = defaults->object("config");
    if (!config_object)
        return unexpected(config_object.error());
    return read_config(*config_object, config);
}

} // namespace

Expected<Profile, std::string> Profile::for_version(std::string_view version)
{
    auto v = KernelVersion::parse(version);
    if (!v)
        return unexpected(v.error());
    Profile p;
    p.name_ = v->str();
    p.description_ = fmt::format("Linux {} (facts table only)", v->str());
    p.version_ = *v;
    if (auto ok = read_defaults(p.config_); !ok)
        return unexpected(ok.error());
    return p;
}

std::vector<std::string> Profile::builtin_names()
{
    // The comparison's order reads better in a list of names than the JSON's ("6.12" before "6.6").
    std::vector<std::string> names = comparison_names();
    for (const auto& [key, value] : builtin_document().at("profiles").items())
        if (std::find(names.begin(), names.end(), key) == names.end())
            names.push_back(key);
    return names;
}

std::vector<std::string> Profile::comparison_names()
{
    std::vector<std::string> names;
    const Json& doc = builtin_document();
    if (doc.contains("compare"))
        for (const Json& name : doc.at("compare"))
            names.push_back(name.get<std::string>());
    return names;
}

std::vector<std::string> Profile::comparison_names(Arch arch)
{
    std::vector<std::string> names;
    for (std::string& name : comparison_names()) {
        const auto p = named(name);
        if (p && p->arch_ == arch)
            names.push_back(std::move(name));
    }
    return names;
}

std::string Profile::default_name(Arch arch)
{
    return builtin_document().at("default").at(std::string(arch_name(arch))).get<std::string>();
}

Expected<Profile, std::string> Profile::named(std::string_view name)
{
    const Json& profiles = builtin_document().at("profiles");
    const auto it = profiles.find(name);
    if (it == profiles.end())
        return unexpected(fmt::format("unknown kernel profile \"{}\" (built-in profiles: {})", name,
                                      fmt::join(builtin_names(), ", ")));
    const Object root(builtin_document(), std::string(kProfilesSource), "");
    auto profiles_object = root.object("profiles");
    if (!profiles_object)
        return unexpected(profiles_object.error());
    return from_object(profiles_object->child(*it, name), std::string(name), true);
}

Expected<Profile, std::string> Profile::from_json(std::string_view text, std::string_view source)
{
    auto doc = json_read::parse(text, source);
    if (!doc)
        return unexpected(doc.error());
    const Object root(*doc, std::string(source), "");
    if (auto ok = root.check_is_object(); !ok)
        return unexpected(ok.error());
    auto name = root.string("name");
    if (!name)
        return unexpected(name.error());
    return from_object(root, std::move(*name), false);
}

Expected<Profile, std::string> Profile::from_object(const Object& o, std::string name, bool builtin)
{
    if (auto ok = o.check_is_object(); !ok)
        return unexpected(ok.error());
    if (auto ok = builtin ? o.check_keys({"description", "arch", "version", "source", "config", "overrides"})
                          : o.check_keys({"name", "description", "base", "arch", "version", "config", "overrides"});
        !ok)
        return unexpected(ok.error());

    Profile p;
    if (o.has("base")) {
        auto base_name = o.string("base");
        if (!base_name)
            return unexpected(base_name.error());
        auto base = named(*base_name);
        if (!base)
            return unexpected(o.error("base", base.error()));
        p = std::move(*base);
    } else if (!o.has("version")) {
        return unexpected(o.error("needs a \"version\" (e.g. \"5.15.63\") or a \"base\" profile"));
    } else if (auto ok = read_defaults(p.config_); !ok) {
        return unexpected(ok.error());
    }
    p.name_ = std::move(name);
    // A built-in profile says what it is built for; a user's may, and must then agree with its base's.
    if (o.has("arch")) {
        auto text = o.string("arch");
        if (!text)
            return unexpected(text.error());
        const std::optional<Arch> arch = parse_arch(*text);
        if (!arch)
            return unexpected(o.error("arch", fmt::format("\"{}\" is not an architecture (x86_64 or aarch64)", *text)));
        if (p.arch_ && *p.arch_ != *arch)
            return unexpected(o.error("arch", fmt::format("its base is built for {}, not {}", arch_name(*p.arch_),
                                                          arch_name(*arch))));
        p.arch_ = arch;
    } else if (builtin) {
        return unexpected(o.error("needs an \"arch\" (x86_64 or aarch64)"));
    }
    if (o.has("version")) {
        auto text = o.string("version");
        if (!text)
            return unexpected(text.error());
        auto v = KernelVersion::parse(*text);
        if (!v)
            return unexpected(o.error("version", v.error()));
        p.version_ = *v;
    }
    auto description = o.string_or("description", p.description_);
    if (!description)
        return unexpected(description.error());
    p.description_ = std::move(*description);
    auto source = o.string_or("source", p.source_);
    if (!source)
        return unexpected(source.error());
    p.source_ = std::move(*source);

    if (o.has("config")) {
        auto config = o.object("config");
        if (!config)
            return unexpected(config.error());
        if (auto ok = read_config(*config, p.config_); !ok)
            return unexpected(ok.error());
    }
    if (o.has("overrides")) {
        auto overrides = o.object("overrides");
        if (!overrides)
            return unexpected(overrides.error());
        for (const auto& [key, value] : overrides->json().items()) {
            if (!FactsTable::builtin().find(key))
                return unexpected(overrides->error(key, "no such behaviour in the facts table"));
            Override ov;
            if (value.is_boolean()) {
                ov.present = value.get<bool>();
            } else {
                const Object entry = overrides->child(value, key);
                if (auto ok = entry.check_is_object(); !ok)
                    return unexpected(entry.error("expected true, false or {\"present\", \"commit\", \"note\"}"));
                if (auto ok = entry.check_keys({"present", "commit", "note"}); !ok)
                    return unexpected(ok.error());
                if (!value.contains("present") || !value.at("present").is_boolean())
                    return unexpected(entry.error("present", "expected true or false"));
                ov.present = value.at("present").get<bool>();
                auto commit = entry.string_or("commit", "");
                auto note = entry.string_or("note", "");
                if (!commit)
                    return unexpected(commit.error());
                if (!note)
                    return unexpected(note.error());
                ov.commit = std::move(*commit);
                ov.note = std::move(*note);
            }
            p.overrides_[key] = std::move(ov);
        }
    }
    return p;
}

Expected<Profile, std::string> Profile::from_file(const std::string& path)
{
    // A profile is a few KiB of JSON; the cap keeps /dev/zero or a stray 200 MB file from filling memory.
    constexpr std::size_t kMaxProfile = 1 << 20;
    const auto text = read_input_file(path, kMaxProfile);
    if (!text)
        return unexpected(fmt::format("{}: cannot read profile file: {}", path, text.error().reason));
    return from_json(*text, path);
}

Expected<Profile, std::string> Profile::load(const std::string& spec)
{
    const Json& profiles = builtin_document().at("profiles");
    if (profiles.contains(spec))
        return named(spec);
    if (KernelVersion::parse(spec))
        return for_version(spec);
    std::ifstream probe(spec);
    if (probe)
        return from_file(spec);
    return unexpected(fmt::format("unknown kernel profile \"{}\": not a built-in profile ({}), not a kernel version "
                                  "(MAJOR.MINOR[.PATCH]) and not a readable file",
                                  spec, fmt::join(builtin_names(), ", ")));
}

Expected<Profile, std::string> Profile::from_kconfig(const Kconfig& config, std::string name)
{
    auto p = for_version(config.version.str());
    if (!p)
        return unexpected(p.error());
    p->name_ = std::move(name);
    p->arch_ = config.arch;
    p->description_ = fmt::format("Linux {} for {}, configured by {}", config.version.str(), arch_name(config.arch),
                                  p->name_);
    // Absent from a .config, these mean what the release does, and system/boot/kernel_config.cc models
    // that when the profile does not set them: VFIO's container is always built before e5a9ec7e096a
    // (v6.2), and before v5.15 there is no strict/lazy choice (the architecture's default applies).
    constexpr std::string_view kReleaseDefaultWhenAbsent[] = {"CONFIG_VFIO_CONTAINER", "CONFIG_IOMMU_DEFAULT_DMA_STRICT",
                                                               "CONFIG_IOMMU_DEFAULT_DMA_LAZY"};
    std::map<std::string, std::string, std::less<>> decided(config.symbols.begin(), config.symbols.end());
    const auto decide_absent = [&](const Json& values) {
        for (const auto& [key, value] : values.items())
            if (!decided.contains(key) &&
                std::find(std::begin(kReleaseDefaultWhenAbsent), std::end(kReleaseDefaultWhenAbsent), key) ==
                    std::end(kReleaseDefaultWhenAbsent))
                decided.emplace(key, "n");
    };
    const Json& doc = builtin_document();
    if (doc.contains("defaults"))
        decide_absent(doc.at("defaults").value("config", Json::object()));
    for (const auto& [profile_name, profile] : doc.at("profiles").items())
        decide_absent(profile.value("config", Json::object()));
    p->config_ = std::move(decided);
    return p;
}

Decision Profile::has(FactKey key) const
{
    const std::string_view behaviour = key.str();
    const Behaviour* b = FactsTable::builtin().find(behaviour);
    // fact_keys.h and the compiled-in table are both made from data/facts.json at build time.
    if (!b)
        throw std::logic_error(fmt::format("behaviour \"{}\" is not in the compiled-in facts table", behaviour));
    if (const auto it = overrides_.find(behaviour); it != overrides_.end()) {
        const Override& ov = it->second;
        std::string why = fmt::format("{} by profile {}", ov.present ? "present" : "absent", name_);
        if (!ov.note.empty())
            why += fmt::format(": {}", ov.note);
        return {ov.present, ov.commit.empty() ? b->commit : ov.commit, std::move(why)};
    }
    return FactsTable::decide(*b, version_);
}

std::optional<std::string> Profile::config(std::string_view key) const
{
    const auto it = config_.find(key);
    if (it == config_.end())
        return std::nullopt;
    return it->second;
}

bool Profile::config_enabled(std::string_view key) const
{
    const auto value = config(key);
    return value && (*value == "y" || *value == "m");
}

} // namespace viommu::guest::profiles
