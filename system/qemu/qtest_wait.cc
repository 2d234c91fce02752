#include "system/qemu/qtest_wait.h"

namespace viommu::system::qemu {

bool QtestWaitForEvent::wait()
{
    if (!qtest_.take_pending_events())
        return false;
    const bool arrived = qtest_.irq_events() != events_seen_;
    events_seen_ = qtest_.irq_events();
    return arrived;
}

} // namespace viommu::system::qemu
