// viommu-boot's model on a guest, as the real boot runs it: QEMU loads the kernel itself (-kernel, the
// same as libvirt's <os><kernel>), so the firmware reads no boot disk; the device's trace is captured
// for the per-endpoint requests.
#pragma once

#include "guest-model/profiles/profile.h"
#include "system/boot/guest_spec.h"
#include "system/truth/observation.h"

namespace viommu::system::truth {

// Boots the model (boot::boot_guest) with the virtio_iommu_* trace points on, written to a buffer (the
// trace sink is process-wide: do not run two at once). Throws what boot_guest() throws.
Observation run_model(boot::GuestSpec spec, const guest::profiles::Profile& profile);

} // namespace viommu::system::truth
