#include "pending_dials.hpp"

#include <algorithm>

namespace grav::detail {

bool PendingDials::add(const DiscoveredPeer& peer) {
    const std::lock_guard lock(mutex_);
    const auto known = std::find_if(waiting_.begin(), waiting_.end(),
                                    [&](const DiscoveredPeer& p) { return p.id == peer.id; });
    if (known != waiting_.end()) {
        *known = peer;  // its latest contact
        return true;
    }
    if (waiting_.size() >= capacity_) return false;
    waiting_.push_back(peer);
    return true;
}

void PendingDials::remove(const NodeId& peer) {
    const std::lock_guard lock(mutex_);
    std::erase_if(waiting_, [&](const DiscoveredPeer& p) { return p.id == peer; });
}

std::optional<DiscoveredPeer> PendingDials::take_first(
    const std::function<bool(const DiscoveredPeer&)>& fits) {
    const std::lock_guard lock(mutex_);
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
        if (!fits(*it)) continue;
        DiscoveredPeer peer = std::move(*it);
        waiting_.erase(it);
        return peer;
    }
    return std::nullopt;
}

std::size_t PendingDials::size() const {
    const std::lock_guard lock(mutex_);
    return waiting_.size();
}

}  // namespace grav::detail
