#include "guest-model/kernel/errno.h"

#include <fmt/format.h>

namespace viommu::guest::kernel {

const char* errno_name(int err)
{
    switch (err < 0 ? -err : err) {
    case kEPERM: return "EPERM";
    case kENOENT: return "ENOENT";
    case kEIO: return "EIO";
    case kENXIO: return "ENXIO";
    case kEAGAIN: return "EAGAIN";
    case kENOMEM: return "ENOMEM";
    case kEFAULT: return "EFAULT";
    case kEBUSY: return "EBUSY";
    case kEEXIST: return "EEXIST";
    case kEXDEV: return "EXDEV";
    case kENODEV: return "ENODEV";
    case kEINVAL: return "EINVAL";
    case kENOSPC: return "ENOSPC";
    case kERANGE: return "ERANGE";
    case kENOSYS: return "ENOSYS";
    case kEOVERFLOW: return "EOVERFLOW";
    case kEOPNOTSUPP: return "EOPNOTSUPP";
    case kETIMEDOUT: return "ETIMEDOUT";
    case kEPROBE_DEFER: return "EPROBE_DEFER";
    default: return nullptr;
    }
}

std::string errno_symbol(int err)
{
    const char* name = errno_name(err);
    if (!name)
        return fmt::format("{}", err);
    return fmt::format("{}{}", err < 0 ? "-" : "", name);
}

} // namespace viommu::guest::kernel
