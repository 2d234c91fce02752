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
    std::string endpoints = "0x0-0xffff";
    std::string granule = "4k";
    unsigned aw_bits = 64;
    std::string domain_range = "0-0xffffffff";
    std::string boot_bypass = "on";
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
[[nodiscard]] Expected<hw::virtio_iommu::IommuConfig, std::string> build_iommu_config(const IommuOptions& options);

} // namespace viommu::tools
