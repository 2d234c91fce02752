// The guest kernel log: dmesg's line format, levels, dynamic debug and the console.
#include <catch2/catch.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "guest-model/kernel/errno.h"
#include "guest-model/kernel/printk.h"

using namespace viommu::guest;



using namespace viommu::guest::kernel;

TEST_CASE("a log line carries its virtual timestamp in dmesg's [%5lu.%06lu] format", "[unit][printk]")
{
    VirtualClock clock;
    KernelLog log(clock);
    log.print(LogLevel::info, "first");
    clock.advance(1'234'567'891); // 1.234567891 s: dmesg truncates to microseconds
    log.print(LogLevel::warning, "{}: probe of {} failed with error {}", "drv", "0000:00:03.0", -22);
    clock.advance(100ull * kNsecPerSec);
    log.print(LogLevel::err, "late");
    CHECK(log.dmesg() == "[    0.000000] first\n"
                         "[    1.234567] drv: probe of 0000:00:03.0 failed with error -22\n"
                         "[  101.234567] late\n");
}

TEST_CASE("a trailing newline ends the record rather than adding an empty line", "[unit][printk]")
{
    VirtualClock clock;
    KernelLog log(clock);
    log.emit(LogLevel::info, "deferred probe pending\n");
    CHECK(log.records().back().text == "deferred probe pending");
}

TEST_CASE("dev_printk prefixes the driver-or-bus name and the device name", "[unit][printk]")
{
    VirtualClock clock;
    KernelLog log(clock);
    dev_printk(log, LogLevel::info, "pci", "0000:00:03.0", "enabling device ({:04x} -> {:04x})", 0, 3);
    CHECK(log.dmesg() == "[    0.000000] pci 0000:00:03.0: enabling device (0000 -> 0003)\n");
}

TEST_CASE("with dynamic debug off, debug lines leave no record", "[unit][printk]")
{
    VirtualClock clock;
    KernelLog log(clock);
    log.set_dynamic_debug(false);
    log.print(LogLevel::debug, "Added to deferred list");
    dev_printk(log, LogLevel::debug, "pci", "0000:00:03.0", "Retrying from deferred list");
    log.print(LogLevel::info, "kept");
    CHECK(log.dmesg() == "[    0.000000] kept\n");
}

TEST_CASE("dmesg can hide records above a level, as dmesg --level does", "[unit][printk]")
{
    VirtualClock clock;
    KernelLog log(clock);
    log.print(LogLevel::debug, "noise");
    log.print(LogLevel::err, "problem");
    CHECK(log.dmesg(LogLevel::info) == "[    0.000000] problem\n");
    CHECK(log.dmesg().find("noise") != std::string::npos);
}

TEST_CASE("only lines below the console log level reach the console", "[unit][printk]")
{
    VirtualClock clock;
    KernelLog log(clock);
    std::ostringstream out;
    auto console = std::make_shared<spdlog::logger>("console", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    console->set_pattern("%v");
    console->set_level(spdlog::level::trace);
    log.set_console(console);
    log.print(LogLevel::debug, "hidden by the default console level");
    log.print(LogLevel::info, "shown");
    log.set_console_loglevel(4);
    log.print(LogLevel::warning, "not below 4");
    log.print(LogLevel::err, "below 4");
    CHECK(out.str() == "[    0.000000] shown\n[    0.000000] below 4\n");
    CHECK(log.records().size() == 4);
}

TEST_CASE("errno values and the names %pe prints are Linux's", "[unit][errno]")
{
    CHECK(kEPROBE_DEFER == 517);
    CHECK(kENODEV == 19);
    CHECK(kENXIO == 6);
    CHECK(kETIMEDOUT == 110);
    CHECK(errno_symbol(-kEPROBE_DEFER) == "-EPROBE_DEFER");
    CHECK(errno_symbol(-kENODEV) == "-ENODEV");
    CHECK(errno_symbol(-1234) == "-1234");
}
