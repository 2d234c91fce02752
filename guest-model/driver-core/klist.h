// The iteration rules of lib/klist.c, which bus_for_each_dev()/bus_for_each_drv() and a driver's device
// list rely on: nodes are appended at the tail and an iteration in progress sees them; a node removed
// while an iteration sits on it stays until the iteration moves on, and is skipped by everyone else.
// Probes run inside these walks and may add or remove devices and drivers, so a plain container would
// not do.
#pragma once

#include <cstddef>
#include <iterator>
#include <list>

namespace viommu::guest::driver_core {

template <class T>
class KList {
    struct Node {
        T* item;
        bool dead = false;
        unsigned users = 0; // iterations currently positioned on this node
    };

public:
    // Where an item sits in the list; what klist_node is to the kernel.
    class Position {
    public:
        bool attached() const { return attached_; }

    private:
        friend class KList;
        typename std::list<Node>::iterator it_{};
        bool attached_ = false;
    };

    void add_tail(T& item, Position& pos)
    {
        nodes_.push_back(Node{&item});
        pos.it_ = std::prev(nodes_.end());
        pos.attached_ = true;
        ++live_;
    }

    // klist_del()/klist_remove(): detaches at once for everyone; the node itself goes when no walk
    // sits on it.
    void remove(Position& pos)
    {
        if (!pos.attached_)
            return;
        pos.attached_ = false;
        --live_;
        pos.it_->dead = true;
        if (pos.it_->users == 0)
            nodes_.erase(pos.it_);
    }

    // Calls fn(item) from head to tail while it returns 0; returns the first non-zero result, or 0.
    // This is bus_for_each_dev()/bus_for_each_drv(): the return value decides whether the walk goes on.
    template <class Fn>
    int for_each(Fn&& fn)
    {
        auto it = nodes_.begin();
        while (it != nodes_.end()) {
            if (it->dead) {
                ++it;
                continue;
            }
            ++it->users;
            const int ret = fn(*it->item);
            --it->users;
            const auto next = std::next(it);
            if (it->dead && it->users == 0)
                nodes_.erase(it);
            if (ret != 0)
                return ret;
            it = next;
        }
        return 0;
    }

    // The last live item, or nullptr (driver_detach() unbinds from the tail).
    T* last() const
    {
        for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it)
            if (!it->dead)
                return it->item;
        return nullptr;
    }

    std::size_t size() const { return live_; }
    bool empty() const { return live_ == 0; }

private:
    std::list<Node> nodes_;
    std::size_t live_ = 0;
};

} // namespace viommu::guest::driver_core
