// Hub: what the transport and discovery report (peers joining and leaving,
// messages, losses, peers found to dial), turned into the bus's events.

#include "hub.hpp"

#include "bus_core.hpp"
#include "log.hpp"
#include "room_wait.hpp"
#include "tunnel_relay.hpp"

#include <grav/bridge.hpp>

#include <algorithm>
#include <optional>

namespace grav::detail {

Status Hub::admit(const PeerInfo& peer) {
    if (peer.id == self_.id) return Error(Errc::rejected, "that is this node itself");
    if (!groups_match(self_.belongs_to, peer.belongs_to)) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return Error(Errc::rejected, "group '" + peer.belongs_to + "' does not match this node's group '" +
                                         self_.belongs_to + "'");
    }
    return success();
}

// The transport's callbacks run the loop: what they hand to pods (and what
// an on_peer callback sends) follows room_wait.hpp's rule for loop runners.

void Hub::on_peer_joined(const PeerInfo& peer) {
    RunningTheLoop loop;
    pending_.remove(peer.id);
    if (dials_.release(peer.id)) dial_pending();
    PeerInfo copy = peer;
    copy.last_seen = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(mutex_);
        peers_[peer.id] = copy;
    }
    peers_changed();
    events_.emit(PeerEvent{PeerEvent::Kind::joined, std::move(copy), std::nullopt, {}, 0});
}

void Hub::on_peer_left(const NodeId& peer, LeaveReason reason, std::string_view detail) {
    RunningTheLoop loop;
    peer_left(peer, reason, detail);
}

void Hub::peer_left(const NodeId& peer, LeaveReason reason, std::string_view detail) {
    PeerInfo info;
    {
        std::lock_guard lock(mutex_);
        auto it = peers_.find(peer);
        if (it == peers_.end()) return;
        info = std::move(it->second);
        peers_.erase(it);
    }
    peers_changed();
    events_.emit(PeerEvent{PeerEvent::Kind::left, std::move(info), reason, std::string(detail), 0});
}

void Hub::on_peer_refused(std::string_view endpoint, std::string_view reason) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    log_warning("peer at " + std::string(endpoint) + " refused: " + std::string(reason));
}

void Hub::on_message(const NodeId& /*from*/, MessagePtr message) {
    RunningTheLoop loop;
    core_.deliver_from_peer(message);
}

bool Hub::has_room() { return core_.room_for_peers(); }

void Hub::on_message_unblocked(const NodeId& /*from*/, MessagePtr message) {
    core_.deliver_from_peer(message, false);
}

void Hub::on_messages_unsent(const NodeId& to, std::optional<std::uint64_t> count) {
    RunningTheLoop loop;
    PeerEvent event{PeerEvent::Kind::unsent, {}, std::nullopt, {}, count.value_or(0)};
    event.unconfirmed = !count;
    {
        std::lock_guard lock(mutex_);
        auto it = peers_.find(to);
        if (it != peers_.end()) event.peer = it->second;
    }
    event.peer.id = to;
    event.detail = count ? std::to_string(*count) + " message(s) sent to node " + to.short_str() +
                               " did not reach it before this node stopped"
                         : "node " + to.short_str() +
                               " did not confirm what it received before this node stopped: "
                               "some messages may not have reached it";
    log_warning(event.detail);
    events_.emit(event);
}

void Hub::on_messages_lost(const NodeId& from, std::string_view stream, std::uint64_t count) {
    RunningTheLoop loop;
    PeerEvent event{PeerEvent::Kind::lost_messages, {}, std::nullopt, {}, count};
    {
        std::lock_guard lock(mutex_);
        auto it = peers_.find(from);
        if (it != peers_.end()) event.peer = it->second;
    }
    event.peer.id = from;
    event.detail = std::to_string(count) + " message(s) of " + std::string(stream) + " from node " +
                   from.short_str() + " were lost";
    log_warning(event.detail);
    events_.emit(event);
}

void Hub::on_peer_found(const DiscoveredPeer& peer) {
    if (withdrawn_ || peer.id == self_.id || !groups_match(self_.belongs_to, peer.belongs_to)) return;
    {
        std::lock_guard lock(mutex_);
        if (peers_.count(peer.id) != 0) return;
    }
    std::uint64_t serial = 0;
    switch (dials_.take(peer.id, peer.contact.host, &serial)) {
        case DialBudget::Take::taken: break;
        case DialBudget::Take::in_flight: return;  // that dial is still under way
        case DialBudget::Take::full:
            dials_deferred_.fetch_add(1, std::memory_order_relaxed);
            pending_.add(peer);  // dialled when a slot frees (or, if full, when discovery reports it again)
            return;
    }
    dial(peer, serial);
}

void Hub::dial(const DiscoveredPeer& peer, std::uint64_t serial) {
    if (auto s = transport_->connect(peer.contact, peer.id); !s) {
        dials_.release(peer.id);
        log_warning("cannot dial discovered node " + peer.id.short_str() + " at " + peer.contact.host + ": " +
                    s.error().what());
        dial_pending();
        return;
    }
    const NodeId id = peer.id;
    core_.timers().schedule(std::chrono::steady_clock::now() + kDialPatience, [this, id, serial] {
        if (withdrawn_ || !dials_.release_if(id, serial)) return;
        bool joined = false;
        {
            std::lock_guard lock(mutex_);
            joined = peers_.count(id) != 0;
        }
        if (!joined) {
            dials_abandoned_.fetch_add(1, std::memory_order_relaxed);
            transport_->drop(id);  // before the next dial: its sockets go first
        }
        dial_pending();
    });
}

void Hub::dial_pending() {
    while (!withdrawn_) {
        std::uint64_t serial = 0;
        auto got = DialBudget::Take::full;
        const auto next = pending_.take_first([&](const DiscoveredPeer& p) {
            got = dials_.take(p.id, p.contact.host, &serial);
            return got != DialBudget::Take::full;
        });
        if (!next) return;
        if (got == DialBudget::Take::in_flight) continue;  // dialled meanwhile
        bool joined = false;
        {
            std::lock_guard lock(mutex_);
            joined = peers_.count(next->id) != 0;
        }
        if (joined) {
            dials_.release(next->id);
            continue;
        }
        dial(*next, serial);
    }
}

void Hub::on_peer_lost(const NodeId& peer, LeaveReason reason) {
    if (withdrawn_) return;
    pending_.remove(peer);
    if (dials_.release(peer)) dial_pending();
    if (transport_->alive(peer)) {
        // The TCP link is the authority on a peer it still hears: silence on
        // UDP is not death, and a leaving (or replacing) beacon is only a
        // claim, which anyone on the LAN can forge. A peer that really leaves
        // says goodbye on the link after its last messages; one that dies
        // stops heartbeating. Either way the transport ends it, with nothing
        // lost unreported; dropping here would cut a healthy link.
        if (reason != LeaveReason::timed_out) leave_claims_ignored_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    // Report first, with discovery's reason: the transport's own report of
    // the drop then finds the peer gone and is ignored.
    peer_left(peer, reason,
              reason == LeaveReason::withdrew ? "it announced it is leaving" : "no beacon within the expiry");
    transport_->drop(peer);
}

bool Hub::peer_alive(const NodeId& peer) { return transport_->alive(peer); }

}  // namespace grav::detail
