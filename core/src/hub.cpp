#include "hub.hpp"

#include "bus_core.hpp"
#include "log.hpp"
#include "room_wait.hpp"
#include "tunnel_relay.hpp"

#include <grav/bridge.hpp>

#include <algorithm>
#include <optional>

namespace grav::detail {

Hub::Hub(BusCore& core, LocalNode self, std::unique_ptr<Transport> transport,
         std::unique_ptr<Discovery> discovery, const PeerEvents& events)
    : core_(core),
      events_(events),
      self_(std::move(self)),
      transport_(std::move(transport)),
      discovery_(std::move(discovery)) {}

Hub::~Hub() { withdraw(); }

Status Hub::start() {
    if (auto s = transport_->start(self_, *this); !s) return s;
    started_ = true;
    if (discovery_) {
        if (auto s = discovery_->start(self_, transport_->contact(), *this); !s) {
            transport_->stop();
            return s;
        }
    }
    return success();
}

void Hub::withdraw() {
    std::lock_guard lock(withdraw_mutex_);
    if (withdrawn_.exchange(true) || !started_) return;
    // Discovery first: no new dials while the transport says goodbye.
    if (discovery_) discovery_->stop();
    transport_->stop();
    std::vector<PeerInfo> left;
    {
        std::lock_guard peers_lock(mutex_);
        for (auto& [id, peer] : peers_) left.push_back(std::move(peer));
        peers_.clear();
    }
    peers_changed();
    for (auto& peer : left)
        events_.emit(PeerEvent{PeerEvent::Kind::left, std::move(peer), LeaveReason::local_stop,
                               "this node withdrew", 0});
}

void Hub::publish(const MessagePtr& message) {
    if (!withdrawn_) transport_->publish(message);
}

std::optional<NodeId> Hub::site_bridge_locked() const {
    // Every bridge elects the lowest id among the site's bridges as active,
    // so every node of the site picks the same one.
    std::optional<NodeId> bridge;
    for (const auto& [id, info] : peers_) {
        const auto& in = info.interests;
        if (std::find(in.begin(), in.end(), kBridgeCapability) != in.end() && (!bridge || id < *bridge))
            bridge = id;
    }
    return bridge;
}

bool Hub::try_publish(const MessagePtr& message) { return withdrawn_ || transport_->try_publish(message); }

void Hub::send_to(const NodeId& peer, const MessagePtr& message) {
    if (withdrawn_) return;
    NodeId target = peer;
    MessagePtr out = message;
    {
        std::lock_guard lock(mutex_);
        // Not in this mesh: a node of another site, reached through the
        // site's active bridge, wrapped with the node it is for
        // (tunnel_relay.hpp): that bridge may not be the one that saw the request.
        if (peers_.count(peer) == 0) {
            if (auto bridge = site_bridge_locked()) {
                target = *bridge;
                out = wrap_reply(peer, *message);
            }
        }
    }
    transport_->send_to(target, std::move(out), [this, peer](Status s) {
        if (!s) {
            reply_send_failures_.fetch_add(1, std::memory_order_relaxed);
            log_warning("reply to node " + peer.short_str() + " not sent: " + s.error().what());
        }
    });
}

void Hub::reply_not_relayed(const Message& relay, const std::string& reason) {
    reply_send_failures_.fetch_add(1, std::memory_order_relaxed);
    log_warning("reply " + relay.id().short_str() + " from node " + relay.origin().short_str() +
                " for another site not sent on: " + reason);
}

void Hub::send_direct(const NodeId& peer, const MessagePtr& message) {
    if (withdrawn_) return;
    transport_->send_to(peer, message, [this, peer, message](Status s) {
        if (!s) {
            reply_send_failures_.fetch_add(1, std::memory_order_relaxed);
            log_warning("message '" + message->type() + "' for node " + peer.short_str() +
                        " not sent: " + s.error().what());
        }
    });
}

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

bool Hub::has_peer(const NodeId& peer) const {
    std::lock_guard lock(mutex_);
    return peers_.count(peer) != 0;
}

bool Hub::offers(const std::string& capability) const {
    std::lock_guard lock(mutex_);
    for (const auto& [id, peer] : peers_) {
        if (std::find(peer.interests.begin(), peer.interests.end(), capability) != peer.interests.end())
            return true;
    }
    return false;
}

void Hub::on_peers_changed(std::function<void(const std::vector<PeerInfo>&)> callback) {
    std::lock_guard lock(mutex_);
    on_peers_changed_ = std::move(callback);
}

void Hub::peers_changed() {
    std::function<void(const std::vector<PeerInfo>&)> callback;
    {
        std::lock_guard lock(mutex_);
        callback = on_peers_changed_;
    }
    peers_cv_.notify_all();
    if (callback) callback(peers());
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

Status Hub::connect_endpoint(std::string_view endpoint) {
    if (withdrawn_) return Error(Errc::closed, "this node withdrew from the mesh");
    return transport_->connect(endpoint);
}

void Hub::subscribe(std::vector<std::string> prefixes) {
    if (!withdrawn_) transport_->subscribe(std::move(prefixes));
}

std::string Hub::endpoint() const { return transport_->endpoint(); }

bool Hub::serve_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline) {
    return started_ && !withdrawn_ && transport_->serve_until(done, deadline);
}

void Hub::interrupt_serve() { transport_->interrupt_serve(); }

std::vector<PeerInfo> Hub::peers() const {
    std::lock_guard lock(mutex_);
    std::vector<PeerInfo> out;
    out.reserve(peers_.size());
    for (const auto& [id, peer] : peers_) out.push_back(peer);
    return out;
}

bool Hub::wait_peers(const std::function<bool(const std::unordered_map<NodeId, PeerInfo>&)>& ready,
                     std::chrono::steady_clock::time_point deadline, std::vector<PeerInfo>& out) const {
    std::unique_lock lock(mutex_);
    const bool met = peers_cv_.wait_until(lock, deadline, [&] {
        return withdrawn_.load() || ready(peers_);
    }) && !withdrawn_;
    out.clear();
    for (const auto& [id, peer] : peers_) out.push_back(peer);
    return met;
}

std::vector<NodeId> Hub::discovered() const { return discovery_ ? discovery_->heard() : std::vector<NodeId>{}; }

std::size_t Hub::peer_count() const {
    std::lock_guard lock(mutex_);
    return peers_.size();
}

std::map<std::string, std::uint64_t> Hub::network_stats() const {
    auto out = transport_->stats();
    if (discovery_) {
        for (auto& [k, v] : discovery_->stats()) out[k] = v;
    }
    out["hub.refused"] = refused_.load(std::memory_order_relaxed);
    out["hub.reply_send_failures"] = reply_send_failures_.load(std::memory_order_relaxed);
    out["hub.tunnel_failovers"] = tunnel_failovers_.load(std::memory_order_relaxed);
    out["hub.leave_claims_ignored"] = leave_claims_ignored_.load(std::memory_order_relaxed);
    out["hub.dials_in_flight"] = dials_.in_flight();
    out["hub.dials_deferred"] = dials_deferred_.load(std::memory_order_relaxed);
    out["hub.dials_pending"] = pending_.size();
    out["hub.dials_abandoned"] = dials_abandoned_.load(std::memory_order_relaxed);
    return out;
}

std::vector<MetricInfo> Hub::describe_metrics() const {
    using enum MetricKind;
    std::vector<MetricInfo> out{
        {"hub.refused", counter, "Peers refused for another group"},
        {"hub.reply_send_failures", counter, "Replies that could not be sent to the requesting node"},
        {"hub.tunnel_failovers", counter,
         "Tunnel requests sent again to another node offering the capability"},
        {"hub.leave_claims_ignored", counter,
         "Leave announcements ignored because the peer's link was alive"},
        {"hub.dials_in_flight", gauge, "Dials of discovered peers under way now"},
        {"hub.dials_deferred", counter, "Dials held back by the dial budget"},
        {"hub.dials_pending", gauge, "Discovered peers waiting for a dial now"},
        {"hub.dials_abandoned", counter, "Dials given up before the peer became ready"},
    };
    auto add = [&out](std::vector<MetricInfo> more) {
        out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    };
    add(transport_->describe_metrics());
    if (discovery_) add(discovery_->describe_metrics());
    return out;
}

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
