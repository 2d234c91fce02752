// dev_dbg()/dev_info()/dev_warn()/dev_err() for a modelled device: "<driver-or-bus> <device>: message",
// with the prefix taken at the moment of printing, as dev_driver_string() does.
#pragma once

#include "guest-model/driver-core/device.h"
#include "guest-model/kernel/printk.h"

namespace viommu::guest {

template <class... Args>
void dev_printk(KernelLog& log, LogLevel level, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, level, dev.driver_string(), dev.name(), format, std::forward<Args>(args)...);
}

template <class... Args>
void dev_dbg(KernelLog& log, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, LogLevel::debug, dev, format, std::forward<Args>(args)...);
}

template <class... Args>
void dev_info(KernelLog& log, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, LogLevel::info, dev, format, std::forward<Args>(args)...);
}

template <class... Args>
void dev_warn(KernelLog& log, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, LogLevel::warning, dev, format, std::forward<Args>(args)...);
}

template <class... Args>
void dev_err(KernelLog& log, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, LogLevel::err, dev, format, std::forward<Args>(args)...);
}

} // namespace viommu::guest
