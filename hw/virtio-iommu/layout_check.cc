// Proves hw/virtio-iommu/wire.h matches <linux/virtio_iommu.h>, field by field. Nothing here runs.
#include <cstddef>

#include <linux/virtio_ids.h>
#include <linux/virtio_iommu.h>

#include "hw/virtio-iommu/status.h"
#include "hw/virtio-iommu/wire.h"

namespace viommu::hw::virtio_iommu::wire {

#define SAME_FIELD(ours, theirs, field)                                                           \
    static_assert(offsetof(ours, field) == offsetof(theirs, field), #ours "." #field " offset"); \
    static_assert(sizeof(ours::field) == sizeof(theirs::field), #ours "." #field " size")

// A request as the device reads it is the kernel's struct without its trailing tail.
#define SAME_REQUEST(ours, theirs)                                                                       \
    static_assert(sizeof(ours) + sizeof(ReqTail) == sizeof(theirs), #ours " size");                      \
    static_assert(offsetof(theirs, tail) == sizeof(ours), #ours " tail offset")

static_assert(kDeviceId == VIRTIO_ID_IOMMU);

static_assert(kFInputRange == VIRTIO_IOMMU_F_INPUT_RANGE);
static_assert(kFDomainRange == VIRTIO_IOMMU_F_DOMAIN_RANGE);
static_assert(kFMapUnmap == VIRTIO_IOMMU_F_MAP_UNMAP);
static_assert(kFBypass == VIRTIO_IOMMU_F_BYPASS);
static_assert(kFProbe == VIRTIO_IOMMU_F_PROBE);
static_assert(kFMmio == VIRTIO_IOMMU_F_MMIO);
static_assert(kFBypassConfig == VIRTIO_IOMMU_F_BYPASS_CONFIG);

static_assert(sizeof(Config) == sizeof(virtio_iommu_config));
SAME_FIELD(Config, virtio_iommu_config, page_size_mask);
SAME_FIELD(Config, virtio_iommu_config, input_range);
SAME_FIELD(Config, virtio_iommu_config, domain_range);
SAME_FIELD(Config, virtio_iommu_config, probe_size);
SAME_FIELD(Config, virtio_iommu_config, bypass);
SAME_FIELD(Config, virtio_iommu_config, reserved);
SAME_FIELD(Range64, virtio_iommu_range_64, start);
SAME_FIELD(Range64, virtio_iommu_range_64, end);
SAME_FIELD(Range32, virtio_iommu_range_32, start);
SAME_FIELD(Range32, virtio_iommu_range_32, end);

static_assert(kTAttach == VIRTIO_IOMMU_T_ATTACH);
static_assert(kTDetach == VIRTIO_IOMMU_T_DETACH);
static_assert(kTMap == VIRTIO_IOMMU_T_MAP);
static_assert(kTUnmap == VIRTIO_IOMMU_T_UNMAP);
static_assert(kTProbe == VIRTIO_IOMMU_T_PROBE);

SAME_FIELD(ReqHead, virtio_iommu_req_head, type);
SAME_FIELD(ReqHead, virtio_iommu_req_head, reserved);
SAME_FIELD(ReqTail, virtio_iommu_req_tail, status);
SAME_FIELD(ReqTail, virtio_iommu_req_tail, reserved);

SAME_REQUEST(ReqAttach, virtio_iommu_req_attach);
SAME_FIELD(ReqAttach, virtio_iommu_req_attach, domain);
SAME_FIELD(ReqAttach, virtio_iommu_req_attach, endpoint);
SAME_FIELD(ReqAttach, virtio_iommu_req_attach, flags);
SAME_FIELD(ReqAttach, virtio_iommu_req_attach, reserved);
static_assert(kAttachFBypass == VIRTIO_IOMMU_ATTACH_F_BYPASS);

SAME_REQUEST(ReqDetach, virtio_iommu_req_detach);
SAME_FIELD(ReqDetach, virtio_iommu_req_detach, domain);
SAME_FIELD(ReqDetach, virtio_iommu_req_detach, endpoint);
SAME_FIELD(ReqDetach, virtio_iommu_req_detach, reserved);

SAME_REQUEST(ReqMap, virtio_iommu_req_map);
SAME_FIELD(ReqMap, virtio_iommu_req_map, domain);
SAME_FIELD(ReqMap, virtio_iommu_req_map, virt_start);
SAME_FIELD(ReqMap, virtio_iommu_req_map, virt_end);
SAME_FIELD(ReqMap, virtio_iommu_req_map, phys_start);
SAME_FIELD(ReqMap, virtio_iommu_req_map, flags);
static_assert(kMapFRead == VIRTIO_IOMMU_MAP_F_READ);
static_assert(kMapFWrite == VIRTIO_IOMMU_MAP_F_WRITE);
static_assert(kMapFMmio == VIRTIO_IOMMU_MAP_F_MMIO);

SAME_REQUEST(ReqUnmap, virtio_iommu_req_unmap);
SAME_FIELD(ReqUnmap, virtio_iommu_req_unmap, domain);
SAME_FIELD(ReqUnmap, virtio_iommu_req_unmap, virt_start);
SAME_FIELD(ReqUnmap, virtio_iommu_req_unmap, virt_end);
SAME_FIELD(ReqUnmap, virtio_iommu_req_unmap, reserved);

// PROBE has no fixed tail: the properties and then the tail follow the request.
static_assert(sizeof(ReqProbe) == offsetof(virtio_iommu_req_probe, properties));
SAME_FIELD(ReqProbe, virtio_iommu_req_probe, endpoint);
SAME_FIELD(ReqProbe, virtio_iommu_req_probe, reserved);

static_assert(kProbeTNone == VIRTIO_IOMMU_PROBE_T_NONE);
static_assert(kProbeTResvMem == VIRTIO_IOMMU_PROBE_T_RESV_MEM);
static_assert(kProbeTMask == VIRTIO_IOMMU_PROBE_T_MASK);
SAME_FIELD(ProbeProperty, virtio_iommu_probe_property, type);
SAME_FIELD(ProbeProperty, virtio_iommu_probe_property, length);
static_assert(sizeof(ProbeResvMem) == sizeof(virtio_iommu_probe_resv_mem));
SAME_FIELD(ProbeResvMem, virtio_iommu_probe_resv_mem, subtype);
SAME_FIELD(ProbeResvMem, virtio_iommu_probe_resv_mem, reserved);
SAME_FIELD(ProbeResvMem, virtio_iommu_probe_resv_mem, start);
SAME_FIELD(ProbeResvMem, virtio_iommu_probe_resv_mem, end);
static_assert(kResvMemTReserved == VIRTIO_IOMMU_RESV_MEM_T_RESERVED);
static_assert(kResvMemTMsi == VIRTIO_IOMMU_RESV_MEM_T_MSI);

static_assert(sizeof(Fault) == sizeof(virtio_iommu_fault));
SAME_FIELD(Fault, virtio_iommu_fault, reason);
SAME_FIELD(Fault, virtio_iommu_fault, flags);
SAME_FIELD(Fault, virtio_iommu_fault, endpoint);
SAME_FIELD(Fault, virtio_iommu_fault, reserved2);
SAME_FIELD(Fault, virtio_iommu_fault, address);
static_assert(kFaultRUnknown == VIRTIO_IOMMU_FAULT_R_UNKNOWN);
static_assert(kFaultRDomain == VIRTIO_IOMMU_FAULT_R_DOMAIN);
static_assert(kFaultRMapping == VIRTIO_IOMMU_FAULT_R_MAPPING);
static_assert(kFaultFRead == VIRTIO_IOMMU_FAULT_F_READ);
static_assert(kFaultFWrite == VIRTIO_IOMMU_FAULT_F_WRITE);
static_assert(kFaultFExec == VIRTIO_IOMMU_FAULT_F_EXEC);
static_assert(kFaultFAddress == VIRTIO_IOMMU_FAULT_F_ADDRESS);

} // namespace viommu::hw::virtio_iommu::wire

namespace viommu::hw::virtio_iommu {
static_assert(static_cast<uint8_t>(Status::kOk) == VIRTIO_IOMMU_S_OK);
static_assert(static_cast<uint8_t>(Status::kIoErr) == VIRTIO_IOMMU_S_IOERR);
static_assert(static_cast<uint8_t>(Status::kUnsupp) == VIRTIO_IOMMU_S_UNSUPP);
static_assert(static_cast<uint8_t>(Status::kDevErr) == VIRTIO_IOMMU_S_DEVERR);
static_assert(static_cast<uint8_t>(Status::kInval) == VIRTIO_IOMMU_S_INVAL);
static_assert(static_cast<uint8_t>(Status::kRange) == VIRTIO_IOMMU_S_RANGE);
static_assert(static_cast<uint8_t>(Status::kNoEnt) == VIRTIO_IOMMU_S_NOENT);
static_assert(static_cast<uint8_t>(Status::kFault) == VIRTIO_IOMMU_S_FAULT);
static_assert(static_cast<uint8_t>(Status::kNoMem) == VIRTIO_IOMMU_S_NOMEM);
} // namespace viommu::hw::virtio_iommu
