// The virtio-iommu device options of the command line, named after QEMU's `-device virtio-iommu`
// properties, turned into an IommuConfig with one clear message per bad value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/expected.h"
#include "hw/virtio-iommu/config.h"

namespace viommu::tools {

struct IommuOptions {
    std::string device_profile = "spec";
    std::string endpoints = "0x0-0xffff";
    std::string granule = "4k";
    unsigned aw_bits = 64;
    std::string domain_range = "0-0xffffffff";
    std::string boot_bypass = "on";
    std::string packed = "off";
    uint32_t probe_size = 512;
    std::string platform = "x86";
    std::vector<std::string> resv;
    std::vector<std::string> no_feature;
    bool legacy_bypass = false;
    uint32_t max_domains = 1u << 16;
    uint32_t max_mappings = 1u << 20;
    uint32_t max_endpoints = 1u << 16;
    uint32_t max_total_mappings = 1u << 22;
};

void add_iommu_options(CLI::App& app, IommuOptions& options);
// --device-profile NAME: whose answers the virtio-iommu gives (hw/virtio-iommu/behaviour.h). An unknown
// name is a parse error (exit 2) that lists the known ones. Every tool with a virtio-iommu takes it.
void add_device_profile_option(CLI::App& app, std::string& name);
// The behaviour of a profile name add_device_profile_option() has accepted.
[[nodiscard]] const hw::virtio_iommu::DeviceBehaviour& device_behaviour(const std::string& name);
[[nodiscard]] Expected<hw::virtio_iommu::IommuConfig, std::string> build_iommu_config(const IommuOptions& options);

} // namespace viommu::tools
