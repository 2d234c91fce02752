// A small Expected<T, E>: the value of a fallible operation or the reason it failed.
//
// g++ 12 ships std::expected only under -std=c++2b, so viommu carries this one. Guest-caused failures
// are values of this type (a status, a queue error), never exceptions (docs/design.md, "Conventions").
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace viommu {

template <class E>
class Unexpected {
public:
    constexpr explicit Unexpected(E error) : error_(std::move(error)) {}
    constexpr const E& error() const& { return error_; }
    constexpr E&& error() && { return std::move(error_); }

private:
    E error_;
};

template <class E>
constexpr Unexpected<std::decay_t<E>> unexpected(E&& error)
{
    return Unexpected<std::decay_t<E>>(std::forward<E>(error));
}

template <class T, class E>
class [[nodiscard]] Expected {
public:
    using value_type = T;
    using error_type = E;

    template <class U = T>
        requires std::is_constructible_v<T, U&&> && (!std::is_same_v<std::decay_t<U>, Expected>)
    constexpr Expected(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}
    template <class G>
    constexpr Expected(Unexpected<G> error) : v_(std::in_place_index<1>, std::move(error).error()) {}

    constexpr bool has_value() const { return v_.index() == 0; }
    constexpr explicit operator bool() const { return has_value(); }

    constexpr T& value() & { assert(has_value()); return *std::get_if<0>(&v_); }
    constexpr const T& value() const& { assert(has_value()); return *std::get_if<0>(&v_); }
    constexpr T&& value() && { assert(has_value()); return std::move(*std::get_if<0>(&v_)); }
    constexpr T& operator*() & { return value(); }
    constexpr const T& operator*() const& { return value(); }
    constexpr T&& operator*() && { return std::move(*this).value(); }
    constexpr T* operator->() { return &value(); }
    constexpr const T* operator->() const { return &value(); }

    constexpr const E& error() const { assert(!has_value()); return *std::get_if<1>(&v_); }

private:
    std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Expected<void, E> {
public:
    constexpr Expected() = default;
    template <class G>
    constexpr Expected(Unexpected<G> error) : error_(std::move(error).error()), failed_(true) {}

    constexpr bool has_value() const { return !failed_; }
    constexpr explicit operator bool() const { return has_value(); }
    constexpr const E& error() const { assert(failed_); return error_; }

private:
    E error_{};
    bool failed_ = false;
};

} // namespace viommu
