// dev_dbg()/dev_info()/dev_warn()/dev_err() for a modelled device: "<driver-or-bus> <device>: message",
// with the prefix taken at the moment of printing, as dev_driver_string() does.
#pragma once

#include "guest-model/driver-core/device.h"
#include "guest-model/kernel/printk.h"

namespace viommu::guest::driver_core {

template <class... Args>
void dev_printk(kernel::KernelLog& log, kernel::LogLevel level, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, level, dev.driver_string(), dev.name(), format, std::forward<Args>(args)...);
}

template <class... Args>
void dev_dbg(kernel::KernelLog& log, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, kernel::LogLevel::debug, dev, format, std::forward<Args>(args)...);
}

template <class... Args>
void dev_info(kernel::KernelLog& log, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, kernel::LogLevel::info, dev, format, std::forward<Args>(args)...);
}

template <class... Args>
void dev_warn(kernel::KernelLog& log, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, kernel::LogLevel::warning, dev, format, std::forward<Args>(args)...);
}

template <class... Args>
void dev_err(kernel::KernelLog& log, const Device& dev, fmt::format_string<Args...> format, Args&&... args)
{
    dev_printk(log, kernel::LogLevel::err, dev, format, std::forward<Args>(args)...);
}

} // namespace viommu::guest::driver_core
