// Hub: a tunnel goes to one peer offering the capability, round robin, and
// to the next when a send fails; with no such peer in the mesh it goes to
// the site's active bridge node, which asks the other sites.

#include "hub.hpp"

#include "bus_core.hpp"
#include "log.hpp"
#include "room_wait.hpp"
#include "tunnel_relay.hpp"

#include <grav/bridge.hpp>

#include <algorithm>
#include <optional>

namespace grav::detail {

bool Hub::forward_tunnel(const std::string& capability, const MessagePtr& message) {
    std::optional<NodeId> target;
    {
        std::lock_guard lock(mutex_);
        std::vector<NodeId> candidates;
        for (const auto& [id, peer] : peers_) {
            if (std::find(peer.interests.begin(), peer.interests.end(), capability) != peer.interests.end()) {
                candidates.push_back(id);
            }
        }
        if (candidates.empty()) return false;
        std::sort(candidates.begin(), candidates.end());
        target = candidates[round_robin_[capability]++ % candidates.size()];
    }
    send_direct(*target, message);
    return true;
}

void Hub::tunnel(const std::string& capability, const MessagePtr& message,
                 const std::shared_ptr<ReplySlot>& slot) {
    auto candidates = std::make_shared<std::vector<NodeId>>();
    std::size_t start = 0;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, peer] : peers_) {
            if (std::find(peer.interests.begin(), peer.interests.end(), capability) != peer.interests.end()) {
                candidates->push_back(id);
            }
        }
        std::sort(candidates->begin(), candidates->end());
        if (!candidates->empty()) start = round_robin_[capability]++ % candidates->size();
    }
    if (!withdrawn_ && candidates->empty() && relay_tunnel(capability, message, slot)) return;
    if (withdrawn_ || candidates->empty()) {
        slot->fail_send(Error(Errc::no_peer, "no peer offers capability '" + capability + "'"));
        return;
    }
    try_tunnel(std::move(candidates), start, 0, capability, message, slot);
}

bool Hub::relay_tunnel(const std::string& capability, const MessagePtr& message,
                       const std::shared_ptr<ReplySlot>& slot) {
    std::optional<NodeId> bridge;
    {
        std::lock_guard lock(mutex_);
        bridge = site_bridge_locked();
    }
    if (!bridge) return false;
    // Another site may offer it: the bridge asks NATS (tunnel_relay.hpp).
    const NodeId via = *bridge;
    transport_->send_to(via, wrap_tunnel(capability, *message), [slot, via, capability](Status s) {
        if (!s) {
            slot->fail_send(Error(Errc::no_peer, "no peer of this site offers '" + capability +
                                                     "' and its bridge node " + via.short_str() +
                                                     " could not be reached: " + s.error().what()));
        }
    });
    return true;
}

void Hub::try_tunnel(std::shared_ptr<std::vector<NodeId>> candidates, std::size_t start, std::size_t attempt,
                     std::string capability, MessagePtr message, std::shared_ptr<ReplySlot> slot) {
    const NodeId target = (*candidates)[(start + attempt) % candidates->size()];
    transport_->send_to(
        target, message, [this, candidates, start, attempt, capability, message, slot](Status s) mutable {
            if (s) return;
            if (attempt + 1 < candidates->size()) {
                tunnel_failovers_.fetch_add(1, std::memory_order_relaxed);
                try_tunnel(std::move(candidates), start, attempt + 1, std::move(capability),
                           std::move(message), std::move(slot));
                return;
            }
            slot->fail_send(Error(
                Errc::no_peer, "every peer offering '" + capability + "' failed; last: " + s.error().what()));
        });
}

}  // namespace grav::detail
