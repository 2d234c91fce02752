// Linux errno values, as the guest kernel uses them: driver-core callbacks return 0, a positive match
// count, or a negative errno, exactly like their kernel counterparts.
//
// Values are those of include/uapi/asm-generic/errno-base.h, errno.h and include/linux/errno.h
// (EPROBE_DEFER is kernel-internal, 517). Names are what lib/errname.c gives "%pe" to print. The
// constants carry a k prefix because the host's <cerrno> defines EPERM & co. as macros.
#pragma once

#include <string>

namespace viommu::guest::kernel {

inline constexpr int kEPERM = 1;
inline constexpr int kENOENT = 2;
inline constexpr int kEIO = 5;
inline constexpr int kENXIO = 6;
inline constexpr int kEAGAIN = 11;
inline constexpr int kENOMEM = 12;
inline constexpr int kEFAULT = 14;
inline constexpr int kEBUSY = 16;
inline constexpr int kEEXIST = 17;
inline constexpr int kEXDEV = 18;
inline constexpr int kENODEV = 19;
inline constexpr int kEINVAL = 22;
inline constexpr int kENOSPC = 28;
inline constexpr int kERANGE = 34;
inline constexpr int kENOSYS = 38;
inline constexpr int kEOVERFLOW = 75;
inline constexpr int kEOPNOTSUPP = 95;
inline constexpr int kETIMEDOUT = 110;
inline constexpr int kEPROBE_DEFER = 517;

// "EPROBE_DEFER" for 517 (either sign); nullptr for a value this table does not name.
const char* errno_name(int err);

// What "%pe" prints for ERR_PTR(err) with CONFIG_SYMBOLIC_ERRNAME=y: "-EPROBE_DEFER", or the decimal
// value ("-1234") when the name is unknown (lib/vsprintf.c:err_ptr()).
std::string errno_symbol(int err);

} // namespace viommu::guest::kernel
