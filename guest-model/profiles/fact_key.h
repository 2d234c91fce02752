// The name of one behaviour of the facts table (data/facts.json), as code asks a profile about it.
// Only the generated table of keys (fact_keys.h, written by gen_fact_keys.py from facts.json at build
// time) can make one, so every FactKey is a key the table has and a misspelt one does not compile.
#pragma once

#include <string_view>

namespace viommu::guest::profiles {

struct FactKeys;

class FactKey {
public:
    // "iommu.dma_fq_type"
    constexpr std::string_view str() const { return key_; }
    friend constexpr bool operator==(FactKey a, FactKey b) { return a.key_ == b.key_; }
    friend constexpr bool operator<(FactKey a, FactKey b) { return a.key_ < b.key_; }

private:
    friend struct FactKeys;
    explicit constexpr FactKey(std::string_view key) : key_(key) {}

    std::string_view key_;
};

} // namespace viommu::guest::profiles
