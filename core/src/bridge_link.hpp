#pragma once
// The core's side of a bridge (grav/bridge.hpp): decides what crosses to
// other sites and delivers what comes from them, so that a site keeps the
// semantics of one mesh.
//
//   local pod ──publish──▶ BusCore ──▶ from_local ─┐
//   LAN peer  ──message──▶ Hub ──────▶ from_peer  ─┼─▶ Bridge (active only) ══▶ other sites
//   reply to a node of another site ─▶ send_reply ─┘
//   tunnel of a LAN peer with no local provider ─▶ relay_tunnel ─▶ Bridge::tunnel
//   other sites ══▶ Bridge thread ──▶ on_remote_* ──▶ local pods + the mesh
//
// Invariants:
//  - only the active bridge node of a site forwards or injects; every bridge
//    node computes the same choice from the mesh (lowest node id among the
//    bridge nodes in view), so a site with two bridges sends each message once;
//  - a message is forwarded only if it originates on this site (this node or
//    a peer of the mesh) and is not a reply: nothing echoes back or loops;
//  - a reply travels only to the node that sent the request, found through
//    the request's origin, which the injecting bridge remembers.

#include "peer_events.hpp"
#include "recent_origins.hpp"

#include <grav/bridge.hpp>
#include <grav/peer.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace grav::detail {

class BusCore;
class ReplySlot;

class BridgeLink final : public BridgeEvents {
public:
    BridgeLink(BusCore& core, std::unique_ptr<Bridge> bridge, const PeerEvents& events);
    ~BridgeLink() override;
    BridgeLink(const BridgeLink&) = delete;
    BridgeLink& operator=(const BridgeLink&) = delete;

    Status start(const LocalNode& self);
    void stop();  // idempotent

    // Whether `message`'s type is one this bridge carries.
    [[nodiscard]] bool carries(const Message& message) const;
    // ok, or why a message of a bridged type cannot cross (checked before it is sent anywhere).
    [[nodiscard]] Status check(const Message& message) const;
    // The type prefixes the bridge node needs from its mesh.
    [[nodiscard]] std::vector<std::string> prefixes() const;

    void from_local(const MessagePtr& message);
    // `in_mesh`: the message's origin is a peer of this node's mesh.
    void from_peer(const MessagePtr& message, bool in_mesh);
    // A reply for `origin`, a node not in this mesh: true when sent on.
    bool send_reply(const NodeId& origin, const MessagePtr& reply);
    void tunnel(const std::string& capability, const MessagePtr& message,
                const std::shared_ptr<ReplySlot>& slot);
    // A "grav.sys.tunnel" relay from a LAN peer (tunnel_relay.hpp): the
    // request goes to other sites; when none takes it, the peer is told.
    void relay_tunnel(const MessagePtr& relay);
    // A "grav.sys.reply" relay from a LAN peer (tunnel_relay.hpp): a reply
    // for a node of another site, sent on; counted when it cannot be.
    void relay_reply(const MessagePtr& relay);

    // The mesh changed: elect the active bridge, tell which capabilities this site offers.
    void peers_changed(const std::vector<PeerInfo>& peers);

    [[nodiscard]] bool active() const noexcept { return active_.load(std::memory_order_acquire); }
    // Started and not stopped: the bridge may be called. The hub starts
    // first, so its threads reach the outbound calls before start() is done.
    [[nodiscard]] bool running() const noexcept { return started_.load() && !stopped_.load(); }
    [[nodiscard]] std::map<std::string, std::uint64_t> stats() const;
    // What stats() carries: the bridge's keys and the link's own "bridge.*".
    [[nodiscard]] std::vector<MetricInfo> describe_metrics() const;

    // BridgeEvents
    bool on_remote_message(MessagePtr message, bool may_block) override;
    bool on_remote_direct(const NodeId& target, MessagePtr message, bool may_block) override;
    bool on_remote_tunnel(const std::string& capability, MessagePtr message, bool may_block) override;
    void on_remote_lost(const NodeId& from, std::string_view stream, std::uint64_t count) override;

private:
    // To this node's own pods (deliver_direct), waiting for room or not.
    bool deliver_here(const MessagePtr& message, bool may_block);

    BusCore& core_;
    const std::unique_ptr<Bridge> bridge_;
    const PeerEvents& events_;
    LocalNode self_;
    std::atomic<bool> started_{false};
    std::atomic<bool> stopped_{false};
    std::atomic<bool> active_{true};
    RecentOrigins origins_{65536};

    std::mutex site_mutex_;

    std::atomic<std::uint64_t> forwarded_{0};
    std::atomic<std::uint64_t> injected_{0};
    mutable std::atomic<std::uint64_t> refused_{0};  // counted by check(), a query
    std::atomic<std::uint64_t> echoes_dropped_{0};
    std::atomic<std::uint64_t> standby_dropped_{0};
    std::atomic<std::uint64_t> unroutable_{0};
    std::atomic<std::uint64_t> relayed_{0};
    std::atomic<std::uint64_t> not_running_dropped_{0};
    std::atomic<std::uint64_t> replies_relayed_{0};      // relay_reply: sent on to their site
    std::atomic<std::uint64_t> reply_relays_failed_{0};  // relay_reply: could not be
    std::atomic<std::uint64_t> relays_failed_{0};
    std::atomic<std::uint64_t> lost_{0};
};

}  // namespace grav::detail
