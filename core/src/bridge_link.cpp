#include "bridge_link.hpp"

#include "bus_core.hpp"
#include "hub.hpp"
#include "log.hpp"
#include "reply_slot.hpp"
#include "tunnel_relay.hpp"

#include <algorithm>
#include <set>

namespace grav::detail {
namespace {

bool offers(const std::vector<std::string>& interests, std::string_view capability) {
    return std::find(interests.begin(), interests.end(), capability) != interests.end();
}

}  // namespace

BridgeLink::BridgeLink(BusCore& core, std::unique_ptr<Bridge> bridge, const PeerEvents& events)
    : core_(core), bridge_(std::move(bridge)), events_(events) {}

BridgeLink::~BridgeLink() { stop(); }

Status BridgeLink::start(const LocalNode& self) {
    self_ = self;
    if (auto s = bridge_->start(self_, *this); !s) return s;
    started_ = true;
    peers_changed({});
    return success();
}

void BridgeLink::stop() {
    if (!started_ || stopped_.exchange(true)) return;
    bridge_->stop();
}

bool BridgeLink::carries(const Message& message) const {
    const auto& types = bridge_->types();
    return std::any_of(types.begin(), types.end(),
                       [&](const TypePattern& p) { return p.matches(message.type()); });
}

Status BridgeLink::check(const Message& message) const {
    if (!carries(message)) return success();
    if (auto s = bridge_->check(message); !s) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return s;
    }
    return success();
}

std::vector<std::string> BridgeLink::prefixes() const {
    std::vector<std::string> out;
    for (const auto& p : bridge_->types()) out.push_back(p.literal_prefix());
    return out;
}

void BridgeLink::from_local(const MessagePtr& message) {
    if (!running() || !active() || !message->reply_to().is_nil() || !carries(*message)) return;
    forwarded_.fetch_add(1, std::memory_order_relaxed);
    bridge_->publish(message);
}

void BridgeLink::from_peer(const MessagePtr& message, bool in_mesh) {
    if (!running()) {
        // Before start (a peer saw this node's "grav.bridge" in the
        // handshake first) or after stop: a reply meant for another site
        // cannot cross; a message never does before the bridge's
        // subscriptions are pushed, so only replies can be here.
        if (!message->reply_to().is_nil() && !stopped_) {
            not_running_dropped_.fetch_add(1, std::memory_order_relaxed);
            log_warning("reply " + message->id().short_str() + " from node " + message->origin().short_str() +
                        " reached this bridge node before its bridge started: not sent on");
        }
        return;
    }
    if (!message->reply_to().is_nil()) {
        // A reply made on this site to a request from another site: only the
        // bridge that injected the request knows where it came from.
        if (auto origin = origins_.origin_of(message->reply_to())) send_reply(*origin, message);
        return;
    }
    if (!in_mesh || !active() || !carries(*message)) return;
    if (auto s = bridge_->check(*message); !s) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        log_warning("message " + message->id().short_str() + " from node " + message->origin().short_str() +
                    " not bridged: " + s.error().what());
        return;
    }
    forwarded_.fetch_add(1, std::memory_order_relaxed);
    bridge_->publish(message);
}

bool BridgeLink::send_reply(const NodeId& origin, const MessagePtr& reply) {
    if (!running()) return false;
    bridge_->send_to(origin, reply, [this, origin](Status s) {
        if (s) return;
        unroutable_.fetch_add(1, std::memory_order_relaxed);
        log_warning("reply to node " + origin.short_str() + " on another site not sent: " + s.error().what());
    });
    return true;
}

void BridgeLink::tunnel(const std::string& capability, const MessagePtr& message,
                        const std::shared_ptr<ReplySlot>& slot) {
    if (!running()) {
        slot->fail_send(Error(Errc::closed, "the bridge is not running"));
        return;
    }
    bridge_->tunnel(capability, message, [slot](Status s) {
        if (!s) slot->fail_send(s.error());
    });
}

void BridgeLink::relay_reply(const MessagePtr& relay) {
    auto unwrapped = unwrap_reply(*relay);
    if (!unwrapped) {
        reply_relays_failed_.fetch_add(1, std::memory_order_relaxed);
        log_warning(unwrapped.error().what());
        return;
    }
    if (!send_reply(unwrapped->target, unwrapped->reply)) {
        reply_relays_failed_.fetch_add(1, std::memory_order_relaxed);
        log_warning("reply " + relay->id().short_str() + " from node " + relay->origin().short_str() +
                    " for node " + unwrapped->target.short_str() +
                    " of another site not sent on: this node's bridge is not running");
        return;
    }
    replies_relayed_.fetch_add(1, std::memory_order_relaxed);
}

void BridgeLink::relay_tunnel(const MessagePtr& relay) {
    auto unwrapped = unwrap_tunnel(*relay);
    if (!unwrapped) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        log_warning(unwrapped.error().what());
        return;
    }
    auto request = std::move(unwrapped->request);
    const std::string capability = std::move(unwrapped->capability);
    auto tell_requester = [this, request](const Error& reason) {
        relays_failed_.fetch_add(1, std::memory_order_relaxed);
        if (Hub* hub = core_.hub())
            hub->send_direct(request->origin(), tunnel_failure(*request, self_.id, reason.reason()));
    };
    if (!running()) {
        tell_requester(
            Error(Errc::no_peer, "the bridge of node " + self_.id.short_str() + " is not running"));
        return;
    }
    relayed_.fetch_add(1, std::memory_order_relaxed);
    bridge_->tunnel(capability, request, [tell_requester](Status s) {
        if (!s) tell_requester(s.error());
    });
}

void BridgeLink::peers_changed(const std::vector<PeerInfo>& peers) {
    if (!started_ || stopped_) return;
    BridgeSite site;
    std::set<std::string> capabilities(self_.interests.begin(), self_.interests.end());
    site.nodes.push_back(self_.id);
    for (const auto& peer : peers) {
        if (offers(peer.interests, kBridgeCapability) && peer.id < self_.id) site.active = false;
        capabilities.insert(peer.interests.begin(), peer.interests.end());
        site.nodes.push_back(peer.id);
    }
    capabilities.erase(std::string(kBridgeCapability));
    site.capabilities.assign(capabilities.begin(), capabilities.end());
    std::sort(site.nodes.begin(), site.nodes.end());
    std::lock_guard lock(site_mutex_);  // two changes reach the bridge in order
    const bool was = active_.exchange(site.active, std::memory_order_acq_rel);
    if (was != site.active) {
        log_debug(std::string("this node is ") + (site.active ? "now" : "no longer") +
                  " its site's active bridge");
    }
    bridge_->update_site(site);
}

bool BridgeLink::on_remote_message(MessagePtr message, bool may_block) {
    if (!active()) {
        standby_dropped_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    Hub* hub = core_.hub();
    if (message->origin() == self_.id || (hub != nullptr && hub->has_peer(message->origin()))) {
        // Sent on this site in the first place: its pods have it already.
        echoes_dropped_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    // Before it is delivered: a reply may come back at once. (Remembered
    // again when the message is handed over instead: the same entry.)
    origins_.remember(message->id(), message->origin());
    if (may_block) {
        core_.deliver_remote(message);
    } else if (!core_.try_deliver_remote(message)) {
        return false;
    }
    injected_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

bool BridgeLink::deliver_here(const MessagePtr& message, bool may_block) {
    if (may_block) {
        core_.deliver_direct(message);
    } else if (!core_.try_deliver_direct(message)) {
        return false;
    }
    injected_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

bool BridgeLink::on_remote_direct(const NodeId& target, MessagePtr message, bool may_block) {
    if (target == self_.id) return deliver_here(message, may_block);
    Hub* hub = core_.hub();
    if (hub != nullptr && hub->has_peer(target)) {
        // Transport::send_to never waits for room.
        injected_.fetch_add(1, std::memory_order_relaxed);
        hub->send_direct(target, message);
        return true;
    }
    unroutable_.fetch_add(1, std::memory_order_relaxed);
    log_warning("message " + message->id().short_str() + " from another site for node " + target.short_str() +
                ", which is not in this mesh: dropped");
    return true;
}

bool BridgeLink::on_remote_tunnel(const std::string& capability, MessagePtr message, bool may_block) {
    origins_.remember(message->id(), message->origin());
    if (offers(self_.interests, capability)) return deliver_here(message, may_block);
    Hub* hub = core_.hub();
    if (hub == nullptr || !hub->forward_tunnel(capability, message)) {
        unroutable_.fetch_add(1, std::memory_order_relaxed);
        log_warning("tunnel request " + message->id().short_str() + " for '" + capability +
                    "' from another site: no node of this site offers it any more");
        return true;
    }
    injected_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void BridgeLink::on_remote_lost(const NodeId& from, std::string_view stream, std::uint64_t count) {
    lost_.fetch_add(count, std::memory_order_relaxed);
    PeerEvent event{PeerEvent::Kind::lost_messages, {}, std::nullopt, {}, count};
    event.peer.id = from;
    event.peer.name = "bridge";
    event.detail = std::to_string(count) + " message(s) of " + std::string(stream) + " from another site" +
                   (from.is_nil() ? std::string() : " (bridge node " + from.short_str() + ")") + " were lost";
    log_warning(event.detail);
    events_.emit(event);
}

std::vector<MetricInfo> BridgeLink::describe_metrics() const {
    using enum MetricKind;
    std::vector<MetricInfo> out{
        {"bridge.active", gauge, "1 while this node is its site's active bridge, else 0"},
        {"bridge.forwarded", counter, "Messages of this site forwarded to other sites"},
        {"bridge.injected", counter, "Messages from other sites delivered on this site"},
        {"bridge.refused", counter, "Messages the bridge could not carry (subject or size)"},
        {"bridge.echoes_dropped", counter, "Messages of this site that came back from the engine (dropped)"},
        {"bridge.standby_dropped", counter, "Messages from other sites dropped by a standby bridge node"},
        {"bridge.unroutable", counter, "Messages from other sites for a node or capability not on this site"},
        {"bridge.lost", counter, "Messages from other sites that will never arrive"},
        {"bridge.dropped_before_start", counter, "Messages that reached the bridge before it ran"},
        {"bridge.tunnels_relayed", counter, "Tunnel requests relayed to a node of this site"},
        {"bridge.replies_relayed", counter, "Replies of this site's plain nodes sent on to another site"},
        {"bridge.reply_relays_failed", counter,
         "Replies of this site's plain nodes that could not be sent on"},
        {"bridge.tunnel_relays_failed", counter, "Tunnel requests that could not be relayed"},
    };
    auto more = bridge_->describe_metrics();
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    return out;
}

std::map<std::string, std::uint64_t> BridgeLink::stats() const {
    auto out = bridge_->stats();
    out["bridge.active"] = active() ? 1 : 0;
    out["bridge.forwarded"] = forwarded_.load(std::memory_order_relaxed);
    out["bridge.injected"] = injected_.load(std::memory_order_relaxed);
    out["bridge.refused"] = refused_.load(std::memory_order_relaxed);
    out["bridge.echoes_dropped"] = echoes_dropped_.load(std::memory_order_relaxed);
    out["bridge.standby_dropped"] = standby_dropped_.load(std::memory_order_relaxed);
    out["bridge.unroutable"] = unroutable_.load(std::memory_order_relaxed);
    out["bridge.lost"] = lost_.load(std::memory_order_relaxed);
    out["bridge.dropped_before_start"] = not_running_dropped_.load(std::memory_order_relaxed);
    out["bridge.tunnels_relayed"] = relayed_.load(std::memory_order_relaxed);
    out["bridge.replies_relayed"] = replies_relayed_.load(std::memory_order_relaxed);
    out["bridge.reply_relays_failed"] = reply_relays_failed_.load(std::memory_order_relaxed);
    out["bridge.tunnel_relays_failed"] = relays_failed_.load(std::memory_order_relaxed);
    return out;
}

}  // namespace grav::detail
