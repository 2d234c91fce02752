#include "guest-model/kernel/printk.h"

#include <spdlog/spdlog.h>

namespace viommu::guest::kernel {
namespace {

spdlog::level::level_enum spdlog_level(LogLevel level)
{
    switch (level) {
    case LogLevel::emerg:
    case LogLevel::alert:
    case LogLevel::crit: return spdlog::level::critical;
    case LogLevel::err: return spdlog::level::err;
    case LogLevel::warning: return spdlog::level::warn;
    case LogLevel::notice:
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::debug: return spdlog::level::debug;
    }
    return spdlog::level::info;
}

} // namespace

void KernelLog::emit(LogLevel level, std::string text)
{
    if (level == LogLevel::debug && !dynamic_debug_)
        return;
    if (!text.empty() && text.back() == '\n')
        text.pop_back();
    records_.push_back({clock_.now(), level, std::move(text)});
    if (console_ && static_cast<int>(level) < console_loglevel_)
        console_->log(spdlog_level(level), "{}", format_line(records_.back()));
}

std::string KernelLog::format_line(const LogRecord& record)
{
    const uint64_t secs = record.timestamp_ns / kNsecPerSec;
    const uint64_t usecs = (record.timestamp_ns % kNsecPerSec) / kNsecPerUsec;
    return fmt::format("[{:5}.{:06}] {}", secs, usecs, record.text);
}

std::string KernelLog::dmesg(LogLevel max_level) const
{
    std::string out;
    for (const LogRecord& r : records_) {
        if (r.level > max_level)
            continue;
        out += format_line(r);
        out += '\n';
    }
    return out;
}

} // namespace viommu::guest::kernel
