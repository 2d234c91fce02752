// The guest kernel's log buffer (what dmesg reads) and console, with virtual timestamps.
//
// Lines are stored with their level and the time they were printed; dmesg() renders them the way
// dmesg(1) does by default ("[    0.123456] message", kernel/printk/printk.c:print_time(), "[%5lu.%06lu]").
// Two knobs select what is seen, as in Linux:
//  - dynamic debug (`dyndbg`): whether pr_debug()/dev_dbg() call sites print at all. Off, they cost one
//    branch and leave no record, like a kernel built with CONFIG_DYNAMIC_DEBUG whose sites are disabled.
//  - the console log level: lines whose level is below it also go to the console (an spdlog logger, if
//    one is set); the buffer keeps every line that was printed.
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "guest-model/kernel/clock.h"

namespace spdlog {
class logger;
}

namespace viommu::guest::kernel {

// KERN_EMERG .. KERN_DEBUG (include/linux/kern_levels.h), numerically equal to the kernel's levels.
enum class LogLevel : uint8_t { emerg = 0, alert, crit, err, warning, notice, info, debug };

// CONSOLE_LOGLEVEL_DEFAULT: the console shows levels below 7, so KERN_DEBUG only when asked.
inline constexpr int kConsoleLoglevelDefault = 7;

struct LogRecord {
    uint64_t timestamp_ns = 0;
    LogLevel level = LogLevel::info;
    std::string text; // without the trailing newline
};

class KernelLog {
public:
    explicit KernelLog(const VirtualClock& clock) : clock_(clock) {}
    KernelLog(const KernelLog&) = delete;
    KernelLog& operator=(const KernelLog&) = delete;

    // printk(): one line at the current virtual time. A trailing newline in text is dropped (the kernel
    // ends every record there too).
    void emit(LogLevel level, std::string text);

    // printk() with a format; a debug line is not even formatted while dynamic debug is off.
    template <class... Args>
    void print(LogLevel level, fmt::format_string<Args...> format, Args&&... args)
    {
        if (level == LogLevel::debug && !dynamic_debug_)
            return;
        emit(level, fmt::format(format, std::forward<Args>(args)...));
    }

    bool dynamic_debug() const { return dynamic_debug_; }
    void set_dynamic_debug(bool on) { dynamic_debug_ = on; }
    int console_loglevel() const { return console_loglevel_; }
    void set_console_loglevel(int level) { console_loglevel_ = level; }
    // The console; nullptr (the default) prints nowhere but the buffer.
    void set_console(std::shared_ptr<spdlog::logger> console) { console_ = std::move(console); }

    const std::vector<LogRecord>& records() const { return records_; }
    // Every record up to and including max_level, one "[    0.123456] text\n" line each.
    std::string dmesg(LogLevel max_level = LogLevel::debug) const;
    void clear() { records_.clear(); }

    static std::string format_line(const LogRecord& record);

private:
    const VirtualClock& clock_;
    std::vector<LogRecord> records_;
    bool dynamic_debug_ = true;
    int console_loglevel_ = kConsoleLoglevelDefault;
    std::shared_ptr<spdlog::logger> console_;
};

// dev_printk()'s prefix: "<driver-or-bus name> <device name>: " (drivers/base/core.c:__dev_printk(),
// "%s %s: %pV" with dev_driver_string() and dev_name()).
template <class... Args>
void dev_printk(KernelLog& log, LogLevel level, std::string_view driver_string, std::string_view dev_name,
                fmt::format_string<Args...> format, Args&&... args)
{
    if (level == LogLevel::debug && !log.dynamic_debug())
        return;
    std::string line;
    line.reserve(driver_string.size() + dev_name.size() + 64);
    line.append(driver_string).append(" ").append(dev_name).append(": ");
    fmt::format_to(std::back_inserter(line), format, std::forward<Args>(args)...);
    log.emit(level, std::move(line));
}

} // namespace viommu::guest::kernel
