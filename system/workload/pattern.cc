#include "system/workload/pattern.h"

#include <array>
#include <string>

#include <fmt/format.h>

namespace viommu::system::workload {

namespace {

using Dir = guest::iommu::DmaDirection;

constexpr uint64_t kVringDesc = 16; // struct vring_desc
constexpr uint64_t kPage = 4096;

// virtio_ring's virtqueue_add_split(): every entry of the request's scatterlists is mapped on its own
// with vring_map_one_sg() (dma_map_page()); with VIRTIO_RING_F_INDIRECT_DESC (QEMU's indirect_desc=on
// by default) and more than one entry (virtqueue_use_indirect()), the kmalloc'd table of descriptors is
// mapped too (vring_map_single(), DMA_TO_DEVICE). detach_buf_split() unmaps them all when the device
// has used the buffer. Only with VIRTIO_F_ACCESS_PLATFORM (iommu_platform=on) does virtio_ring use the
// DMA API at all (vring_use_dma_api()).
constexpr std::string_view kVirtioRing =
    "drivers/virtio/virtio_ring.c virtqueue_add_split(): vring_map_one_sg() per entry, vring_map_single() of "
    "the indirect table";

// virtblk_add_req(): the request header (struct virtio_blk_outhdr, 16 bytes), the data, the status byte.
constexpr std::array kBlk4k{
    Buffer{"virtio_blk_outhdr", 16, 1, false, Dir::kToDevice},
    Buffer{"data page", kPage, 1, false, Dir::kFromDevice, kPage},
    Buffer{"status", 1, 1, false, Dir::kFromDevice},
    Buffer{"indirect table (3 descriptors)", 3 * kVringDesc, 1, false, Dir::kToDevice},
};
constexpr std::array kBlk64k{
    Buffer{"virtio_blk_outhdr", 16, 1, false, Dir::kToDevice},
    Buffer{"data pages", kPage, 16, false, Dir::kFromDevice, kPage},
    Buffer{"status", 1, 1, false, Dir::kFromDevice},
    Buffer{"indirect table (18 descriptors)", 18 * kVringDesc, 1, false, Dir::kToDevice},
};
// libata's ata_sg_setup(): dma_map_sg() of the data; the command list, FIS and command tables are
// coherent memory ahci_port_start() allocated once, so nothing else is mapped per command.
constexpr std::string_view kLibata = "drivers/ata/libata-core.c ata_sg_setup(): dma_map_sg() of the request's data";
constexpr std::array kAhci4k{Buffer{"data page", kPage, 1, true, Dir::kFromDevice, kPage}};
constexpr std::array kAhci64k{Buffer{"data pages", kPage, 16, true, Dir::kFromDevice, kPage}};

// A mergeable receive buffer (add_recvbuf_mergeable(), one entry, no indirect table): get_mergeable_buf_len()
// gives GOOD_PACKET_LEN (1518) plus the 12-byte virtio_net_hdr_mrg_rxbuf, aligned to 64 bytes: 1536.
constexpr std::string_view kVirtioNetRx =
    "drivers/net/virtio_net.c add_recvbuf_mergeable(): one buffer per refill through virtqueue_add_inbuf_ctx()";
constexpr std::array kVirtioNetRx1500{Buffer{"mergeable receive buffer", 1536, 1, false, Dir::kFromDevice}};
// e1000_alloc_rx_buffers(): dma_map_single() of an skb of rx_buffer_len (1522 for a 1500 MTU), unmapped
// in e1000_clean_rx_irq() when the frame has arrived.
constexpr std::string_view kE1000eRx =
    "drivers/net/ethernet/intel/e1000e/netdev.c e1000_alloc_rx_buffers(): dma_map_single() per receive skb";
constexpr std::array kIntelRx1500{Buffer{"receive skb", 1522, 1, false, Dir::kFromDevice}};

// A 64 KiB TSO send: the linear part holds the headers (and, for virtio-net, the 12-byte header pushed in
// front of them, can_push), the payload sits in page fragments, which TCP takes from the socket's 32 KiB
// pages (SKB_FRAG_PAGE_ORDER, get_order(32768): include/net/sock.h, net/core/sock.c before): two of them.
constexpr std::string_view kVirtioNetTx =
    "drivers/net/virtio_net.c xmit_skb(): skb_to_sgvec() entries through virtqueue_add_outbuf()";
constexpr std::array kVirtioNetTx64k{
    Buffer{"virtio_net_hdr and headers", 12 + 66, 1, false, Dir::kToDevice},
    Buffer{"32 KiB page fragments", 32768, 2, false, Dir::kToDevice, 32768},
    Buffer{"indirect table (3 descriptors)", 3 * kVringDesc, 1, false, Dir::kToDevice},
};
constexpr std::string_view kE1000eTx =
    "drivers/net/ethernet/intel/e1000e/netdev.c e1000_tx_map(): dma_map_single() of the head, skb_frag_dma_map() "
    "per fragment";
constexpr std::array kIntelTx64k{
    Buffer{"headers", 66, 1, false, Dir::kToDevice},
    Buffer{"32 KiB page fragments", 32768, 2, false, Dir::kToDevice, 32768},
};

constexpr std::array kDisk4kRecipes{Recipe{Family::kVirtioBlk, kBlk4k, kVirtioRing}, Recipe{Family::kAhci, kAhci4k, kLibata}};
constexpr std::array kDisk64kRecipes{Recipe{Family::kVirtioBlk, kBlk64k, kVirtioRing},
                                     Recipe{Family::kAhci, kAhci64k, kLibata}};
constexpr std::array kNet1500Recipes{Recipe{Family::kVirtioNet, kVirtioNetRx1500, kVirtioNetRx},
                                     Recipe{Family::kIntelNic, kIntelRx1500, kE1000eRx}};
constexpr std::array kNet64kRecipes{Recipe{Family::kVirtioNet, kVirtioNetTx64k, kVirtioNetTx},
                                    Recipe{Family::kIntelNic, kIntelTx64k, kE1000eTx}};

constexpr std::array kPatterns{
    Pattern{"disk-4k-randread", "a 4 KiB read at a random offset: one request of one data page", Applies::kDisk,
            kDisk4kRecipes},
    Pattern{"disk-64k-seqread", "a 64 KiB read: one request of 16 page-cache pages, not physically contiguous",
            Applies::kDisk, kDisk64kRecipes},
    Pattern{"net-1500", "a 1500-byte frame received: its receive buffer mapped at refill, unmapped on arrival",
            Applies::kNic, kNet1500Recipes},
    Pattern{"net-64k", "a 64 KiB TSO packet sent: headers and two 32 KiB page fragments", Applies::kNic,
            kNet64kRecipes},
};

const char* dir_name(Dir d)
{
    switch (d) {
    case Dir::kToDevice: return "to device";
    case Dir::kFromDevice: return "from device";
    case Dir::kBidirectional: return "bidirectional";
    }
    return "?";
}

} // namespace

std::string_view family_name(Family f)
{
    switch (f) {
    case Family::kVirtioBlk: return "virtio_blk";
    case Family::kAhci: return "ahci";
    case Family::kVirtioNet: return "virtio_net";
    case Family::kIntelNic: return "e1000e";
    }
    return "?";
}

std::span<const Pattern> patterns()
{
    return kPatterns;
}

const Pattern* find_pattern(std::string_view name)
{
    for (const Pattern& p : kPatterns)
        if (p.name == name)
            return &p;
    return nullptr;
}

const Recipe* recipe_for(const Pattern& pattern, Family family)
{
    for (const Recipe& r : pattern.recipes)
        if (r.family == family)
            return &r;
    return nullptr;
}

std::string describe_patterns()
{
    std::string out = "Workload patterns (viommu-boot DOMAIN.xml --workload PATTERN); per driver, the DMA API calls of "
                      "one I/O, each unmapped when it completes:\n";
    for (const Pattern& p : kPatterns) {
        out += fmt::format("\n{}: {} ({} endpoints)\n", p.name, p.summary, p.applies == Applies::kDisk ? "disk" : "NIC");
        for (const Recipe& r : p.recipes) {
            out += fmt::format("  {}: {}\n", family_name(r.family), r.source);
            for (const Buffer& b : r.buffers)
                out += fmt::format("    {} {}{} of {} bytes, {}\n", b.map_sg ? "dma_map_sg" : "dma_map_page",
                                   b.segments > 1 ? fmt::format("{} x ", b.segments) : "", b.what, b.bytes,
                                   dir_name(b.dir));
        }
    }
    return out;
}

} // namespace viommu::system::workload
