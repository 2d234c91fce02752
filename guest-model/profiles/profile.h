// A kernel profile: a guest kernel version, the configuration that matters (CONFIG_* values) and any
// behaviour overrides, answering "does this kernel have behaviour X?" with the commit that decides.
//
// Sources: a built-in named profile (data/profiles.json: "debian-12", or a mainline release such as
// "5.19", which is 5.19.8 configured like x86_64_defconfig, or "5.19-arm64", the same release configured
// like arm64's defconfig), a bare version ("5.15.63": the facts table decides every behaviour, the
// configuration is only the defaults), or a user's JSON file:
//   {"name": "my-kernel", "base": "debian-12" | "version": "5.15.63", "arch": "x86_64" | "aarch64",
//    "config": {"CONFIG_MODULES": "y"},
//    "overrides": {"driver_core.match_defer_stops_attach": true | {"present": true, "commit": "..", "note": ".."}}}
// Every profile starts from the "defaults" configuration of data/profiles.json.
//
// A built-in profile is built for one architecture ("arch"); a user's file has its base's, or the one it
// names. A bare version, or a file with neither, names none and fits a guest of either architecture.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "guest-model/profiles/arch.h"
#include "guest-model/profiles/fact_key.h"
#include "guest-model/profiles/facts.h"
#include "guest-model/profiles/kconfig.h"
#include "guest-model/profiles/kernel_version.h"

namespace viommu::guest::profiles {

namespace json_read {
class Object;
}

class Profile {
public:
    // A bare version: facts only, default configuration.
    [[nodiscard]] static Expected<Profile, std::string> for_version(std::string_view version);
    [[nodiscard]] static Expected<Profile, std::string> named(std::string_view name);
    // A user profile document; source names it in errors (usually the file name).
    [[nodiscard]] static Expected<Profile, std::string> from_json(std::string_view text, std::string_view source);
    [[nodiscard]] static Expected<Profile, std::string> from_file(const std::string& path);
    // What a command line accepts: a built-in name, else a version, else a file.
    [[nodiscard]] static Expected<Profile, std::string> load(const std::string& spec);
    // A kernel's own configuration (kconfig.h), named name: the facts table decides behaviours by the
    // version its header names, the file the configuration. Every symbol a built-in profile sets is
    // decided by the file: set as it says, else not set, but for those whose absence means what the
    // release does (CONFIG_VFIO_CONTAINER before v6.2, the IOMMU default-domain choice before v5.15).
    [[nodiscard]] static Expected<Profile, std::string> from_kconfig(const Kconfig& config, std::string name);
    // Every built-in profile: those of comparison_names() in its order, then any others by name.
    static std::vector<std::string> builtin_names();
    // The built-in profiles a comparison across kernels shows, in order: mainline releases oldest first,
    // each distribution kernel after the mainline release of its tree ("compare" in data/profiles.json).
    static std::vector<std::string> comparison_names();
    // Those of comparison_names() built for arch, in the same order.
    static std::vector<std::string> comparison_names(Arch arch);
    // The built-in profile a guest of arch boots when none is chosen ("default" in data/profiles.json).
    static std::string default_name(Arch arch);

    const std::string& name() const { return name_; }
    const std::string& description() const { return description_; }
    // Where a built-in profile's version and configuration were read (a distribution package); empty
    // for others.
    const std::string& source() const { return source_; }
    const KernelVersion& version() const { return version_; }
    // The architecture the kernel is built for; none for a bare version.
    const std::optional<Arch>& arch() const { return arch_; }
    // Whether a guest of that architecture can boot it.
    bool fits(Arch guest) const { return !arch_ || *arch_ == guest; }

    // Keys come from the generated table (fact_keys.h: fact::iommu::kDmaFqType), so the facts table has
    // every one asked about.
    Decision has(FactKey behaviour) const;

    std::optional<std::string> config(std::string_view key) const;
    // "y" or "m".
    bool config_enabled(std::string_view key) const;
    const std::map<std::string, std::string, std::less<>>& config_values() const { return config_; }

private:
    struct Override {
        bool present = false;
        std::string commit;
        std::string note;
    };
    // One profile object; a built-in one is named by its key and may not have "base" or "name".
    [[nodiscard]] static Expected<Profile, std::string> from_object(const json_read::Object& o, std::string name,
                                                                    bool builtin);

    std::string name_;
    std::string description_;
    std::string source_;
    KernelVersion version_;
    std::optional<Arch> arch_;
    std::map<std::string, std::string, std::less<>> config_;
    std::map<std::string, Override, std::less<>> overrides_;
};

} // namespace viommu::guest::profiles
