#include "system/boot/report_format.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "base/printable.h"
#include "guest-model/kernel/errno.h"
#include "guest-model/vfio/user_path.h"
#include "system/workload/report_format.h"

namespace viommu::system::boot {

namespace {

// Whether the report names the device's profile: only one other than the spec's (the default).
bool shows_device_profile(const IommuReport& iommu)
{
    return iommu.present && !iommu.device_profile.empty() && iommu.device_profile != "spec";
}

std::string hex_ids(const std::vector<uint32_t>& ids)
{
    std::string out;
    for (uint32_t id : ids)
        out += fmt::format("{}{:#06x}", out.empty() ? "" : ",", id);
    return out;
}

// "0x0-0xfedfffff" for each usable IOVA range, inclusive.
std::vector<std::string> iova_ranges_text(const std::vector<guest::vfio::IovaRange>& ranges)
{
    std::vector<std::string> out;
    for (const guest::vfio::IovaRange& r : ranges)
        out.push_back(fmt::format("{:#x}-{:#x}", r.start, r.end));
    return out;
}

nlohmann::json dma_json(const DmaOutcome& dma)
{
    nlohmann::json j = {{"result", dma_result_name(dma.result)}, {"detail", dma.detail}};
    if (!dma.reason.empty())
        j["reason"] = dma.reason;
    return j;
}

// With boot-bypass off, every DMA of an endpoint no domain holds faults: one line per fault, with the
// reason the device gave, and what it means.
std::string boot_bypass_faults(const GuestReport& r)
{
    std::vector<std::string> lines;
    for (const DeviceReport& d : r.devices) {
        if (d.firmware_dma)
            lines.push_back(fmt::format("  {} ({}): {}: reason {}, before any driver attached it: on QEMU the "
                                        "firmware cannot load the guest from this disk (the rest of this report "
                                        "assumes a kernel loaded another way, <os><kernel>)",
                                        d.bdf, printable(d.label), d.firmware_dma->detail, d.firmware_dma->reason));
        if (d.dma.result == DmaResult::kFault)
            lines.push_back(fmt::format("  {} ({}): {}: reason {}{}", d.bdf, printable(d.label), d.dma.detail,
                                        d.dma.reason, d.group ? "" : ", Linux never attached it to a domain"));
    }
    std::string out = fmt::format("\nDMA faults with boot-bypass off: {}\n", lines.empty() ? "none" : std::to_string(lines.size()));
    for (const std::string& line : lines)
        out += line + "\n";
    return out;
}

nlohmann::json verdict_json(const guest::vfio::Verdict& v)
{
    return {{"stage", guest::vfio::stage_name(v.stage)},
            {"admitted", v.admitted},
            {"unsafe", v.unsafe},
            {"rule", guest::vfio::rule_key(v.rule)},
            {"errno", v.error},
            {"error", v.error ? errno_text(v.error) : ""},
            {"reason", v.reason},
            {"log", v.log},
            {"commit", v.commit},
            {"remedies", v.remedies},
            {"iova_ranges", iova_ranges_text(v.iova_ranges)}};
}

} // namespace

std::string verdict_text(const DeviceReport& d)
{
    if (!d.vfio)
        return "-";
    const guest::vfio::Verdict& v = *d.vfio;
    if (v.admitted)
        return v.unsafe ? "admitted (unsafe)" : "admitted";
    return fmt::format("rejected: {} {}", guest::vfio::stage_name(v.stage), errno_text(v.error));
}

// The DMA column: the driver's DMA, after a fault of the firmware's when there was one.
std::string dma_text(const DeviceReport& d)
{
    const std::string driver = dma_result_name(d.dma.result);
    return d.firmware_dma ? "firmware fault, " + driver : driver;
}

std::string_view tables_text(FirmwareTables t)
{
    return t == FirmwareTables::kAcpi ? "ACPI" : "device tree";
}

std::string errno_text(int err)
{
    const char* name = guest::kernel::errno_name(err);
    return name ? name : fmt::format("errno {}", err);
}

std::string render_table(const GuestReport& r)
{
    struct Row {
        std::vector<std::string> cells;
    };
    const std::vector<std::string> head = {"DEVICE", "WHAT", "DRIVER", "GROUP", "DOMAIN", "LINUX IDS", "QEMU EP",
                                           "DEFER", "DMA", "VFIO"};
    std::vector<Row> rows;
    for (const DeviceReport& d : r.devices) {
        rows.push_back({{d.bdf, printable(d.label), d.driver.empty() ? "-" : d.driver, d.group ? std::to_string(*d.group) : "-",
                         d.domain.empty() ? "-" : d.domain, d.behind_iommu ? hex_ids(d.linux_ids) : "-",
                         d.behind_iommu || r.iommu.present ? fmt::format("{:#06x}", d.qemu_endpoint) : "-",
                         std::to_string(d.deferrals), dma_text(d), verdict_text(d)}});
    }
    std::vector<std::size_t> width(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) {
        width[i] = head[i].size();
        for (const Row& row : rows)
            width[i] = std::max(width[i], row.cells[i].size());
    }
    // The guest's and the profile's names and the labels come from input files: shown, never obeyed.
    std::string out =
        fmt::format("guest {} on Linux {} ({}), {}, {}\n", printable(r.guest), r.kernel_version, printable(r.kernel),
                    guest::profiles::arch_name(r.arch), tables_text(r.tables));
    // The device's profile is named only when it is not the spec's, so default reports read as before.
    std::string profile =
        shows_device_profile(r.iommu) ? fmt::format(" (device profile {})", r.iommu.device_profile) : "";
    if (r.iommu.present && !r.iommu.boot_bypass)
        profile += " (boot-bypass off)";
    if (!r.iommu.present)
        out += "virtio-iommu: none in this machine\n";
    else if (r.iommu.driver_ready)
        out += fmt::format("virtio-iommu: {} at {}, features {:#x}, {} requests, {} faults{}\n", r.iommu.device,
                           r.iommu.bdf, r.iommu.features, r.iommu.requests, r.iommu.faults, profile);
    else
        out += fmt::format("virtio-iommu: at {}{}, not in use: {}\n", r.iommu.bdf, profile, r.iommu.why_not);
    // The user path (--vfio-user), for guests that give a device to VFIO.
    if (std::any_of(r.devices.begin(), r.devices.end(), [](const DeviceReport& d) { return d.vfio.has_value(); }))
        out += fmt::format("VFIO user: {}: {}\n", guest::vfio::backend_name(r.vfio_user),
                           guest::vfio::backend_description(r.vfio_user));
    out += "\n";
    auto line = [&](const std::vector<std::string>& cells) {
        std::string l;
        for (std::size_t i = 0; i < cells.size(); ++i)
            l += i + 1 == cells.size() ? cells[i] : fmt::format("{:<{}}  ", cells[i], width[i]);
        out += l + "\n";
    };
    line(head);
    for (const Row& row : rows)
        line(row.cells);

    for (const DeviceReport& d : r.devices) {
        if (!d.vfio)
            continue;
        const guest::vfio::Verdict& v = *d.vfio;
        out += fmt::format("\n{} ({}): VFIO {} at {}", d.bdf, printable(d.label), v.admitted ? "admitted" : "REJECTED",
                           guest::vfio::stage_name(v.stage));
        if (!v.admitted)
            out += fmt::format(" with {}", errno_text(v.error));
        out += "\n";
        out += fmt::format("  why:    {}\n", v.reason);
        out += fmt::format("  rule:   {}{}\n", guest::vfio::rule_key(v.rule), v.commit.empty() ? "" : fmt::format(" ({})", v.commit.substr(0, 12)));
        if (!v.log.empty())
            out += fmt::format("  log:    {}\n", v.log);
        if (!v.iova_ranges.empty())
            out += fmt::format("  iova:   {} (VFIO_IOMMU_GET_INFO)\n", fmt::join(iova_ranges_text(v.iova_ranges), ", "));
        for (const std::string& fix : v.remedies)
            out += fmt::format("  change: {}\n", fix);
    }
    bool first = true;
    for (const DeviceReport& d : r.devices) {
        if (d.no_group_reason.empty() && d.dma.result != DmaResult::kFault)
            continue;
        if (first)
            out += "\nnotes:\n";
        first = false;
        if (!d.no_group_reason.empty())
            out += fmt::format("  {}: no IOMMU group: {}\n", d.bdf, d.no_group_reason);
        if (d.dma.result == DmaResult::kFault)
            out += fmt::format("  {}: DMA {}\n", d.bdf, d.dma.detail);
    }
    if (r.iommu.present && !r.iommu.boot_bypass)
        out += boot_bypass_faults(r);
    if (!r.warnings.empty()) {
        out += "\nwarnings (not modelled):\n";
        for (const std::string& w : r.warnings)
            out += fmt::format("  {}\n", printable(w));
    }
    if (r.workload)
        out += workload::render_text(*r.workload);
    return out;
}

std::string render_not_modelled(std::string_view guest, std::string_view why)
{
    return fmt::format("guest {}: not modelled: {}\n", printable(guest), printable(why));
}

std::string render_not_modelled_json(std::string_view guest, std::string_view why, int indent)
{
    const nlohmann::json j = {{"schema", kReportSchema},
                              {"guest", guest},
                              {"exit_code", kNotModelledExitCode},
                              {"not_modelled", why}};
    return j.dump(indent);
}

nlohmann::json report_json(const GuestReport& r)
{
    nlohmann::json devices = nlohmann::json::array();
    for (const DeviceReport& d : r.devices) {
        nlohmann::json j = {{"bdf", d.bdf},
                            {"label", d.label},
                            {"role", d.role},
                            {"driver", d.driver},
                            {"group", d.group ? nlohmann::json(*d.group) : nlohmann::json(nullptr)},
                            {"domain", d.domain},
                            {"reserved_regions", d.reserved_regions},
                            {"behind_iommu", d.behind_iommu},
                            {"linux_ids", d.linux_ids},
                            {"qemu_endpoint", d.qemu_endpoint},
                            {"deferrals", d.deferrals},
                            {"no_group_reason", d.no_group_reason},
                            {"dma", dma_json(d.dma)},
                            {"vfio", d.vfio ? verdict_json(*d.vfio) : nlohmann::json(nullptr)}};
        if (d.firmware_dma)
            j["firmware_dma"] = dma_json(*d.firmware_dma);
        devices.push_back(std::move(j));
    }
    nlohmann::json j = {{"schema", kReportSchema},
                        {"guest", r.guest},
                        {"kernel", r.kernel},
                        {"kernel_version", r.kernel_version},
                        {"arch", guest::profiles::arch_name(r.arch)},
                        {"firmware_tables", r.tables == FirmwareTables::kAcpi ? "acpi" : "device-tree"},
                        {"vfio_user", guest::vfio::backend_name(r.vfio_user)},
                        {"exit_code", r.exit_code()},
                        {"iommu",
                         {{"present", r.iommu.present},
                          {"driver_built", r.iommu.driver_built},
                          {"driver_ready", r.iommu.driver_ready},
                          {"device", r.iommu.device},
                          {"bdf", r.iommu.bdf},
                          {"features", r.iommu.features},
                          {"requests", r.iommu.requests},
                          {"faults", r.iommu.faults},
                          {"why_not", r.iommu.why_not}}},
                        {"devices", devices},
                        {"warnings", r.warnings},
                        {"dmesg", r.dmesg}};
    if (shows_device_profile(r.iommu))
        j["iommu"]["device_profile"] = r.iommu.device_profile;
    if (r.iommu.present && !r.iommu.boot_bypass)
        j["iommu"]["boot_bypass"] = false;
    if (r.workload)
        j["workload"] = workload::to_json(*r.workload);
    return j;
}

std::string render_json(const GuestReport& report, int indent)
{
    return report_json(report).dump(indent);
}

} // namespace viommu::system::boot
