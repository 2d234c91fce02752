// A passkey: a function that takes Badge<T> can only be called by T, which alone can build one.
// The access rule lives in the signature instead of a comment (the SerenityOS idiom).
#pragma once

namespace viommu {

template <class T>
class Badge {
    friend T;
    constexpr Badge() = default;

public:
    Badge(const Badge&) = delete;
    Badge& operator=(const Badge&) = delete;
};

} // namespace viommu
