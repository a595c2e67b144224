// What reaches the bus from outside its pods: messages from peers (through
// the hub), the buses' own grav.sys. messages, and what a bridge brings
// from other sites. Each goes to the local pods through fan_out; what comes
// from another site goes on to the mesh too.

#include "bridge_link.hpp"
#include "bus_core.hpp"
#include "hub.hpp"
#include "log.hpp"
#include "system_types.hpp"
#include "tunnel_relay.hpp"

namespace grav::detail {

void BusCore::deliver_from_peer(const MessagePtr& message, bool may_block) {
    if (closed() || message->origin() == node_id_) return;
    // The buses' own messages are no traffic of its pods: not counted, so
    // that asking a node for its counters (grav.sys.stats) leaves them be.
    if (message->type().starts_with(kSystemTypePrefix)) {
        on_system_message(message);
        return;
    }
    counters_->received_from_peers.fetch_add(1, std::memory_order_relaxed);
    // The transport thread waits for mailbox room too (or, asking
    // room_for_peers first, stops reading): backpressure reaches the
    // network instead of an unbounded queue; but not while a thread
    // wants the loop for a wait (room_wait.hpp).
    fan_out(message, 0, may_block);
    if (bridge_) bridge_->from_peer(message, hub_ && hub_->has_peer(message->origin()));
}

void BusCore::on_system_message(const MessagePtr& message) {
    if (message->type() == kTunnelRelayType) {
        if (bridge_) {
            bridge_->relay_tunnel(message);
        } else if (hub_) {
            // Sent here as the site's bridge, but this node has none (any more).
            auto request = unwrap_tunnel(*message);
            if (request) {
                hub_->send_direct(message->origin(), tunnel_failure(*request->request, node_id_,
                                                                    "node " + node_id_.short_str() +
                                                                        " has no bridge to other sites"));
            }
        }
    } else if (message->type() == kReplyRelayType) {
        if (bridge_) {
            bridge_->relay_reply(message);
        } else if (hub_) {
            // Sent here as the site's bridge, but this node has none (any more).
            hub_->reply_not_relayed(*message,
                                    "node " + node_id_.short_str() + " has no bridge to other sites");
        }
    } else if (message->type() == kStatsType) {
        // Answered point to point to the asker, whoever asks: the same
        // counters any member of the mesh could read (docs/PROTOCOL.md).
        if (hub_) {
            hub_->send_direct(message->origin(),
                              stats_reply(*message, NodeReport{node_id_, name_, stats(), hub_->traffic()}));
        }
    } else if (message->type() == kStatsReplyType) {
        if (!stats_requests_.answer(*message))
            log_debug("stats answer from node " + message->origin().short_str() +
                      " nobody waits for: ignored");
    } else if (message->type() == kTunnelFailedType) {
        if (auto slot = find_reply(message->reply_to())) {
            slot->fail_send(Error(Errc::no_peer, std::string(message->payload_view())));
        }
    } else {
        log_debug("system message '" + message->type() + "' from node " + message->origin().short_str() +
                  " not known here: ignored");
    }
}

bool BusCore::room_for_peers() const {
    if (options_.overflow != OverflowPolicy::block || closed()) return true;
    // While a thread wants the loop for a wait, the bound is soft for what
    // comes from peers (room_wait.hpp): a transport that stopped reading
    // its fan-out for a full mailbox must read it again, or a waiter that
    // serves the loop sits behind the held fan-out (a reply that comes only
    // after the news ahead of it are read waits out its sender's timeout).
    if (counters_->loop.wanted.load(std::memory_order_acquire) > 0) return true;
    std::shared_ptr<const std::vector<std::shared_ptr<PodState>>> pods;
    {
        std::lock_guard lock(registry_mutex_);
        pods = pods_snapshot();
    }
    // Any full pod, whatever it wants: which pods the next message is for
    // is known only once it is read.
    for (const auto& pod : *pods) {
        if (pod->full()) return false;
    }
    return true;
}

void BusCore::deliver_remote(const MessagePtr& message) {
    if (closed()) return;
    counters_->received_from_peers.fetch_add(1, std::memory_order_relaxed);
    fan_out(message, 0, true);
    if (hub_) hub_->publish(message);
}

void BusCore::deliver_direct(const MessagePtr& message) {
    if (closed()) return;
    counters_->received_from_peers.fetch_add(1, std::memory_order_relaxed);
    fan_out(message, 0, true);
}

// Without waiting: every pod has room (a pod that fills meanwhile takes the
// message past its capacity, as from a handler: PodState::enqueue), and the
// transport takes it at once. Checked before anything is delivered, so a
// refusal leaves nothing half done.
bool BusCore::try_deliver_remote(const MessagePtr& message) {
    if (closed()) return true;
    // (A published message is no reply; one that is goes the waiting way.)
    if (!message->reply_to().is_nil() || !room_for_peers()) return false;
    if (hub_ && !hub_->try_publish(message)) return false;
    counters_->received_from_peers.fetch_add(1, std::memory_order_relaxed);
    fan_out(message, 0, false);
    return true;
}

bool BusCore::try_deliver_direct(const MessagePtr& message) {
    if (closed()) return true;
    if (!room_for_peers() || !fan_out(message, 0, false, false)) return false;
    counters_->received_from_peers.fetch_add(1, std::memory_order_relaxed);
    return true;
}

}  // namespace grav::detail
