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

std::vector<NodeId> Hub::discovered() const {
    return discovery_ ? discovery_->heard() : std::vector<NodeId>{};
}

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

}  // namespace grav::detail
