#include "base/trace/trace.h"

#include <algorithm>
#include <fnmatch.h>
#include <mutex>
#include <utility>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace viommu::trace {
namespace {

struct Registry {
    std::mutex mutex;
    std::vector<TracePoint*> points;
    std::vector<std::string> globs;
    std::shared_ptr<spdlog::logger> sink;
};

// Function-local so that trace points defined in other translation units may register during static
// initialisation in any order.
Registry& registry()
{
    static Registry r;
    return r;
}

bool matches(const std::string& glob, std::string_view name)
{
    return fnmatch(glob.c_str(), std::string(name).c_str(), 0) == 0;
}

// Whether every '[' opens a bracket expression that a ']' closes ("[]...]" and "[!]...]" start with a
// literal ']', as in POSIX fnmatch()).
bool well_formed(std::string_view glob)
{
    for (std::size_t i = 0; i < glob.size(); ++i) {
        if (glob[i] != '[')
            continue;
        std::size_t j = i + 1;
        if (j < glob.size() && glob[j] == '!')
            ++j;
        if (j < glob.size() && glob[j] == ']')
            ++j;
        const std::size_t close = glob.find(']', j);
        if (close == std::string_view::npos)
            return false;
        i = close;
    }
    return true;
}

std::shared_ptr<spdlog::logger> default_sink()
{
    auto logger = std::make_shared<spdlog::logger>("trace", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    return logger;
}

} // namespace

TracePoint::TracePoint(const char* name) noexcept : name_(name)
{
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.points.push_back(this);
    for (const std::string& glob : r.globs)
        if (matches(glob, name_))
            set_enabled(true);
}

EnableResult enable(std::string_view glob)
{
    EnableResult result;
    if (!well_formed(glob)) {
        result.malformed = true;
        return result;
    }
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    std::string pattern(glob);
    r.globs.push_back(pattern);
    for (TracePoint* tp : r.points) {
        if (matches(pattern, tp->name())) {
            tp->set_enabled(true);
            ++result.matched;
        }
    }
    const bool has_wildcard = pattern.find_first_of("*?[") != std::string::npos;
    result.unknown_exact_name = result.matched == 0 && !has_wildcard;
    return result;
}

void disable(std::string_view glob)
{
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    std::erase(r.globs, std::string(glob));
    for (TracePoint* tp : r.points)
        if (matches(std::string(glob), tp->name()))
            tp->set_enabled(false);
}

void disable_all()
{
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.globs.clear();
    for (TracePoint* tp : r.points)
        tp->set_enabled(false);
}

std::vector<std::string> names()
{
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    std::vector<std::string> out;
    for (const TracePoint* tp : r.points)
        out.emplace_back(tp->name());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void set_sink(std::shared_ptr<spdlog::logger> logger)
{
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.sink = std::move(logger);
}

std::shared_ptr<spdlog::logger> sink()
{
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    if (!r.sink)
        r.sink = default_sink();
    return r.sink;
}

namespace {
thread_local std::string current_context;
} // namespace

ScopedContext::ScopedContext(std::string name) : previous_(std::exchange(current_context, std::move(name))) {}
ScopedContext::~ScopedContext()
{
    current_context = std::move(previous_);
}

namespace detail {
void write(const TracePoint& tp, std::string_view args)
{
    if (current_context.empty())
        sink()->trace("{} {}", tp.name(), args);
    else
        sink()->trace("{}: {} {}", current_context, tp.name(), args);
}
} // namespace detail

} // namespace viommu::trace
