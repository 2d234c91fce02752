// The I/O patterns `viommu-boot --workload` runs through a guest's endpoints: for each pattern and each
// kind of endpoint driver, the DMA API calls that driver makes for one I/O, as Linux makes them. The
// calls go through the guest model's dma-iommu (guest-model/iommu/dma_api.h) and the virtio-iommu
// driver to the emulated device; what they cost is counted there, never computed from this table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "guest-model/iommu/dma_api.h"

namespace viommu::system::workload {

// The endpoint drivers whose per-I/O DMA is modelled.
enum class Family {
    kVirtioBlk, // virtio_blk over virtio_ring (drivers/block/virtio_blk.c, drivers/virtio/virtio_ring.c)
    kAhci,      // ahci over libata (drivers/ata/libata-core.c)
    kVirtioNet, // virtio_net over virtio_ring (drivers/net/virtio_net.c)
    kIntelNic,  // e1000e and e1000 (drivers/net/ethernet/intel/e1000e/netdev.c, e1000/e1000_main.c)
};
std::string_view family_name(Family f);

enum class Applies { kDisk, kNic };

// One buffer a driver maps for the I/O, and unmaps when the I/O completes.
struct Buffer {
    std::string_view what;
    uint64_t bytes = 0;    // per segment
    unsigned segments = 1; // > 1: a scatterlist of that many physically discontiguous segments
    bool map_sg = false;   // dma_map_sg() of the whole list; else one dma_map_page() per segment
    guest::iommu::DmaDirection dir = guest::iommu::DmaDirection::kFromDevice;
    uint64_t align = 8;    // the buffer's physical alignment (a 32 KiB page fragment is 32 KiB aligned)
};

struct Recipe {
    Family family;
    std::span<const Buffer> buffers;
    std::string_view source; // the Linux code that makes these calls
};

struct Pattern {
    std::string_view name;
    std::string_view summary;
    Applies applies;
    std::span<const Recipe> recipes;
};

std::span<const Pattern> patterns();
const Pattern* find_pattern(std::string_view name);
// The recipe of a pattern for an endpoint driver; nullptr when the pattern does not apply to it.
const Recipe* recipe_for(const Pattern& pattern, Family family);

// `--workload help`: every pattern, what it models and, per driver, the calls of one I/O.
std::string describe_patterns();

} // namespace viommu::system::workload
