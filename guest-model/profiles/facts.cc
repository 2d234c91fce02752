#include "guest-model/profiles/facts.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "guest-model/profiles/embedded_data.h"
#include "guest-model/profiles/json_read.h"

namespace viommu::guest::profiles {
namespace {

using json_read::Object;

bool is_commit_id(std::string_view s)
{
    return s.size() >= 12 && s.size() <= 40 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string not_a_commit_id(const Object& o, std::string_view key, std::string_view value)
{
    return o.error(key, fmt::format("\"{}\" is not a commit id (12 to 40 lowercase hex digits)", value));
}

Expected<std::string, std::string> read_commit(const Object& o, std::string_view key)
{
    auto commit = o.string(key);
    if (commit && !is_commit_id(*commit))
        return unexpected(not_a_commit_id(o, key, *commit));
    return commit;
}

Expected<KernelVersion, std::string> read_version(const Object& o, std::string_view key)
{
    auto text = o.string(key);
    if (!text)
        return unexpected(text.error());
    auto version = KernelVersion::parse(*text);
    if (!version)
        return unexpected(o.error(key, version.error()));
    return version;
}

Expected<StableBackport, std::string> parse_backport(const Object& o, const KernelVersion& mainline)
{
    if (auto ok = o.check_is_object(); !ok)
        return unexpected(ok.error());
    if (auto ok = o.check_keys({"release", "commit", "evidence"}); !ok)
        return unexpected(ok.error());
    auto release = read_version(o, "release");
    if (!release)
        return unexpected(release.error());
    if (release->patch == 0 || *release >= mainline)
        return unexpected(o.error("release", fmt::format("{} is not a stable point release older than mainline v{}",
                                                         release->str(), mainline.str())));
    // A backport whose own id was not found must say how its release was established.
    if (!o.has("commit") && !o.has("evidence"))
        return unexpected(o.error("needs a \"commit\" or, when the backport's id is unknown, an \"evidence\""));
    StableBackport backport{*release, "", ""};
    if (o.has("commit")) {
        auto commit = read_commit(o, "commit");
        if (!commit)
            return unexpected(commit.error());
        backport.commit = std::move(*commit);
    }
    auto evidence = o.string_or("evidence", "");
    if (!evidence)
        return unexpected(evidence.error());
    backport.evidence = std::move(*evidence);
    return backport;
}

Expected<Behaviour, std::string> parse_behaviour(const Object& o, std::string key)
{
    if (auto ok = o.check_is_object(); !ok)
        return unexpected(ok.error());
    if (auto ok = o.check_keys({"summary", "mainline", "stable", "notes"}); !ok)
        return unexpected(ok.error());
    Behaviour b;
    b.key = std::move(key);
    auto summary = o.string("summary");
    auto mainline = o.object("mainline");
    if (!summary)
        return unexpected(summary.error());
    if (!mainline)
        return unexpected(mainline.error());
    if (auto ok = mainline->check_keys({"commit", "subject", "release", "release_evidence"}); !ok)
        return unexpected(ok.error());
    auto release_evidence = mainline->string_or("release_evidence", "");
    if (!release_evidence)
        return unexpected(release_evidence.error());
    // Some behaviours are known only from a pull request that lists their subject, never their id
    // ("iommu: Print default domain type on boot", iommu-updates-v5.4). Their id stays empty rather
    // than guessed, and then the evidence for the release is what the table has to show for it.
    auto commit = mainline->string_or("commit", "");
    if (!commit)
        return unexpected(commit.error());
    if (commit->empty()) {
        if (release_evidence->empty())
            return unexpected(mainline->error(
                "needs a \"commit\" or, when its id was not established, a \"release_evidence\""));
    } else if (!is_commit_id(*commit)) {
        return unexpected(not_a_commit_id(*mainline, "commit", *commit));
    }
    auto subject = mainline->string("subject");
    if (!subject)
        return unexpected(subject.error());
    auto release = read_version(*mainline, "release");
    if (!release)
        return unexpected(release.error());
    auto notes = o.string_or("notes", "");
    if (!notes)
        return unexpected(notes.error());
    b.summary = std::move(*summary);
    b.commit = std::move(*commit);
    b.subject = std::move(*subject);
    b.release = *release;
    b.release_evidence = std::move(*release_evidence);
    b.notes = std::move(*notes);
    if (o.has("stable")) {
        const auto& list = o.json().at("stable");
        if (!list.is_array())
            return unexpected(o.error("stable", "expected an array of {\"release\", \"commit\"}"));
        for (size_t i = 0; i < list.size(); ++i) {
            auto backport = parse_backport(o.child(list[i], fmt::format("stable[{}]", i)), b.release);
            if (!backport)
                return unexpected(backport.error());
            for (const StableBackport& other : b.stable)
                if (other.release.same_tree(backport->release))
                    return unexpected(o.error(fmt::format("stable[{}]", i),
                                              fmt::format("a second backport to the {}.{} tree",
                                                          other.release.major, other.release.minor)));
            b.stable.push_back(std::move(*backport));
        }
    }
    return b;
}

} // namespace

Expected<FactsTable, std::string> FactsTable::parse(std::string_view json, std::string_view source)
{
    auto doc = json_read::parse(json, source);
    if (!doc)
        return unexpected(doc.error());
    const Object root(*doc, std::string(source), "");
    if (auto ok = root.check_is_object(); !ok)
        return unexpected(ok.error());
    if (auto ok = root.check_keys({"behaviours"}); !ok)
        return unexpected(ok.error());
    auto behaviours = root.object("behaviours");
    if (!behaviours)
        return unexpected(behaviours.error());
    FactsTable table;
    for (const auto& [key, value] : behaviours->json().items()) {
        auto b = parse_behaviour(behaviours->child(value, key), key);
        if (!b)
            return unexpected(b.error());
        table.behaviours_.push_back(std::move(*b));
    }
    std::sort(table.behaviours_.begin(), table.behaviours_.end(),
              [](const Behaviour& a, const Behaviour& b) { return a.key < b.key; });
    return table;
}

const FactsTable& FactsTable::builtin()
{
    static const FactsTable table = [] {
        auto parsed = parse(embedded::facts_json(), "guest-model/profiles/data/facts.json");
        if (!parsed)
            throw std::logic_error(parsed.error());
        return std::move(*parsed);
    }();
    return table;
}

const Behaviour* FactsTable::find(std::string_view key) const
{
    const auto it = std::lower_bound(behaviours_.begin(), behaviours_.end(), key,
                                     [](const Behaviour& b, std::string_view k) { return b.key < k; });
    return it != behaviours_.end() && it->key == key ? &*it : nullptr;
}

Decision FactsTable::decide(const Behaviour& b, const KernelVersion& version)
{
    // Without an established id the sentence carries the release evidence instead, so that a verdict
    // citing it never shows an empty commit.
    const std::string mainline =
        b.commit.empty() ? fmt::format("commit id not established: {}", b.release_evidence) : b.commit;
    const std::string upstream = b.commit.empty() ? "upstream commit id not established" : "upstream " + b.commit;
    if (version >= b.release)
        return {true, b.commit, fmt::format("in mainline since v{} ({})", b.release.str(), mainline)};
    for (const StableBackport& s : b.stable) {
        if (!s.release.same_tree(version))
            continue;
        const std::string id = s.commit.empty() ? "backport id not established" : s.commit;
        if (version >= s.release)
            return {true, s.commit.empty() ? b.commit : s.commit,
                    fmt::format("backported to {}.{}.y in v{} ({}; {})", s.release.major, s.release.minor,
                                s.release.str(), id, upstream)};
        return {false, b.commit,
                fmt::format("v{} predates the {}.{}.y backport in v{} ({}; {})", version.str(), s.release.major,
                            s.release.minor, s.release.str(), id, upstream)};
    }
    return {false, b.commit,
            fmt::format("not in v{}: mainline since v{} ({}), no {}.{}.y backport in the facts table", version.str(),
                        b.release.str(), mainline, version.major, version.minor)};
}

} // namespace viommu::guest::profiles
