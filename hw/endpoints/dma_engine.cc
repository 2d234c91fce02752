#include "hw/endpoints/dma_engine.h"

namespace viommu::hw::endpoints {

DmaEngine::DmaEngine(Kind kind, DmaPort port, IrqLine& irq) : kind_(kind), port_(port), irq_(irq) {}

uint64_t DmaEngine::read(uint64_t offset, unsigned size)
{
    if (size != 4 || offset % 4)
        return 0;
    switch (offset) {
    case kId: return kMagic;
    case kKind: return static_cast<uint32_t>(kind_);
    case kAddrLow: return static_cast<uint32_t>(addr_);
    case kAddrHigh: return static_cast<uint32_t>(addr_ >> 32);
    case kLength: return length_;
    case kSeed: return seed_;
    case kStatus: return status_;
    case kFaultLow: return static_cast<uint32_t>(fault_);
    case kFaultHigh: return static_cast<uint32_t>(fault_ >> 32);
    case kChecksum: return checksum_;
    case kIrqStatus: return irq_status_;
    default: return 0;
    }
}

void DmaEngine::write(uint64_t offset, unsigned size, uint64_t value)
{
    if (size != 4 || offset % 4)
        return;
    const auto v = static_cast<uint32_t>(value);
    switch (offset) {
    case kAddrLow: addr_ = (addr_ & ~uint64_t{0xffffffff}) | v; break;
    case kAddrHigh: addr_ = (addr_ & 0xffffffff) | (uint64_t{v} << 32); break;
    case kLength: length_ = v; break;
    case kSeed: seed_ = v; break;
    case kCommand: run(v); break;
    case kIrqAck:
        irq_status_ &= ~v;
        irq_.set_level(irq_status_ != 0);
        break;
    default: break;
    }
}

void DmaEngine::run(uint32_t command)
{
    // A NIC's receive path only writes into memory; an assigned function does both.
    const bool allowed = command == kCmdWrite || (command == kCmdRead && kind_ == Kind::kAssigned);
    if (!allowed || length_ > kMaxLength) {
        status_ = kStatusBadCommand;
    } else {
        buffer_.resize(length_);
        Expected<void, DmaFault> done;
        if (command == kCmdWrite) {
            for (uint32_t i = 0; i < length_; ++i)
                buffer_[i] = pattern(seed_, i);
            done = port_.write(addr_, buffer_);
        } else {
            done = port_.read(addr_, buffer_);
            checksum_ = 0;
            for (uint8_t b : buffer_)
                checksum_ += b;
        }
        status_ = done ? kStatusOk : kStatusFault;
        fault_ = done ? 0 : done.error().iova;
    }
    irq_status_ |= 1;
    irq_.set_level(true);
}

} // namespace viommu::hw::endpoints
