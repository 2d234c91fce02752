// QEMU-style trace points: `virtio_iommu_map domain=1 virt_start=0x1000 ...`, selected at run time by a
// glob (`--trace 'virtio_iommu_*'`).
//
// Each layer declares its events in its own trace_events.h with VIOMMU_TRACE_POINT (the counterpart of a
// QEMU folder's trace-events file). A disabled trace point costs one relaxed load and one branch: its
// arguments are formatted only when it is on, out of line.
#pragma once

#include <atomic>
#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace spdlog {
class logger;
}

namespace viommu::trace {

class TracePoint {
public:
    // Registers the trace point; it starts enabled if an earlier enable() glob matches its name.
    explicit TracePoint(const char* name) noexcept;
    TracePoint(const TracePoint&) = delete;
    TracePoint& operator=(const TracePoint&) = delete;

    std::string_view name() const { return name_; }
    bool enabled() const { return on_.load(std::memory_order_relaxed); }
    void set_enabled(bool on) { on_.store(on, std::memory_order_relaxed); }

private:
    const char* name_;
    std::atomic<bool> on_{false};
};

struct EnableResult {
    std::size_t matched = 0;
    // A pattern without wildcards that names no trace point is a mistake (QEMU refuses it too); one with
    // wildcards may legitimately match nothing in this program.
    bool unknown_exact_name = false;
    // A '[' without its ']': fnmatch() would take it literally and match no trace point name, so the
    // pattern is refused (and not kept) rather than accepted to no effect.
    bool malformed = false;
};

// Turns on every trace point whose name matches the shell-style glob (*, ?, [...]). Trace points that
// register later are matched against every glob enabled so far.
EnableResult enable(std::string_view glob);
// Turns off every trace point the glob matches (an events file's "-PATTERN"), and forgets that glob.
void disable(std::string_view glob);
// Turns every trace point off and forgets the globs.
void disable_all();
// The names of every registered trace point, sorted.
std::vector<std::string> names();

// Where enabled trace points write: stderr by default. Tests and tools may redirect it.
void set_sink(std::shared_ptr<spdlog::logger> sink);
std::shared_ptr<spdlog::logger> sink();

// While one is alive, the trace lines this thread writes start with "NAME: " (one guest of a batch
// among others booting on other threads).
class ScopedContext {
public:
    explicit ScopedContext(std::string name);
    ~ScopedContext();
    ScopedContext(const ScopedContext&) = delete;
    ScopedContext& operator=(const ScopedContext&) = delete;

private:
    std::string previous_;
};

namespace detail {
void write(const TracePoint& tp, std::string_view args);

template <class... Args>
[[gnu::cold, gnu::noinline]] void emit(const TracePoint& tp, fmt::format_string<const Args&...> format,
                                       const Args&... args)
{
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf), format, args...);
    write(tp, std::string_view(buf.data(), buf.size()));
}
} // namespace detail

} // namespace viommu::trace

// VIOMMU_TRACE_POINT(name, (typed parameters), (arguments), "fmt-style format")
// defines `trace_<name>(parameters)`. Example:
//   VIOMMU_TRACE_POINT(virtqueue_pop, (unsigned queue, unsigned head), (queue, head), "queue={} head={}")
#define VIOMMU_TRACE_EXPAND(...) __VA_OPT__(, ) __VA_ARGS__
#define VIOMMU_TRACE_POINT(name, params, args, format)                                                      \
    inline ::viommu::trace::TracePoint name##_trace_point{#name};                                             \
    inline void trace_##name params                                                                          \
    {                                                                                                        \
        if (name##_trace_point.enabled()) [[unlikely]]                                                       \
            ::viommu::trace::detail::emit(name##_trace_point, format VIOMMU_TRACE_EXPAND args);       \
    }
