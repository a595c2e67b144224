#pragma once
// The hub joins the local bus to peers (Grav's hub.go role): it implements the
// events of the transport and of discovery, keeps the peer table (with each
// peer's group and interests from its handshake), admits or refuses peers by
// group, picks tunnel targets round-robin, and withdraws cleanly.

#include "dial_budget.hpp"
#include "peer_events.hpp"
#include "pending_dials.hpp"
#include "reply_slot.hpp"

#include <grav/discovery.hpp>
#include <grav/peer.hpp>
#include <grav/transport.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace grav::detail {

class BusCore;

class Hub final : public TransportEvents, public DiscoveryEvents {
public:
    Hub(BusCore& core, LocalNode self, std::unique_ptr<Transport> transport,
        std::unique_ptr<Discovery> discovery, const PeerEvents& events);
    ~Hub() override;
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    Status start();
    void withdraw();  // idempotent

    void publish(const MessagePtr& message);
    // Transport::try_publish: false, nothing done, when publish() would wait.
    bool try_publish(const MessagePtr& message);
    // A reply for `peer`; when `peer` is not in the mesh (a node of another
    // site), it goes to the site's active bridge node, which routes it on.
    void send_to(const NodeId& peer, const MessagePtr& message);
    // A message for one peer of this mesh: from another site, or the bus's
    // own (grav.sys.*); counted in hub.reply_send_failures if it fails.
    void send_direct(const NodeId& peer, const MessagePtr& message);
    // A tunnel request from another site, to one peer offering `capability`:
    // false when none does.
    bool forward_tunnel(const std::string& capability, const MessagePtr& message);
    [[nodiscard]] bool has_peer(const NodeId& peer) const;
    [[nodiscard]] bool offers(const std::string& capability) const;
    // Called with the peer table after every change (the bridge's election).
    void on_peers_changed(std::function<void(const std::vector<PeerInfo>&)> callback);
    void tunnel(const std::string& capability, const MessagePtr& message,
                const std::shared_ptr<ReplySlot>& slot);
    Status connect_endpoint(std::string_view endpoint);
    void subscribe(std::vector<std::string> prefixes);

    [[nodiscard]] std::string endpoint() const;
    // Transport::serve_until / interrupt_serve, for a Receipt's waiter.
    bool serve_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline);
    void interrupt_serve();
    [[nodiscard]] std::vector<PeerInfo> peers() const;
    [[nodiscard]] std::vector<PeerTraffic> traffic() const { return transport_->traffic(); }
    // A reply relay (tunnel_relay.hpp) this node cannot send on: counted
    // with the replies not sent, and said.
    void reply_not_relayed(const Message& relay, const std::string& reason);
    // Blocks until `ready(peers)` holds (true), the deadline passes or the
    // hub withdraws (false); `out` gets the peers at that moment.
    bool wait_peers(const std::function<bool(const std::unordered_map<NodeId, PeerInfo>&)>& ready,
                    std::chrono::steady_clock::time_point deadline, std::vector<PeerInfo>& out) const;
    [[nodiscard]] std::size_t peer_count() const;
    [[nodiscard]] std::vector<NodeId> discovered() const;
    [[nodiscard]] std::map<std::string, std::uint64_t> network_stats() const;
    // What network_stats() carries: the transport's, discovery's and the hub's own keys.
    [[nodiscard]] std::vector<MetricInfo> describe_metrics() const;

    // TransportEvents
    Status admit(const PeerInfo& peer) override;
    void on_peer_joined(const PeerInfo& peer) override;
    void on_peer_left(const NodeId& peer, LeaveReason reason, std::string_view detail) override;
    void on_peer_refused(std::string_view endpoint, std::string_view reason) override;
    void on_message(const NodeId& from, MessagePtr message) override;
    bool has_room() override;
    void on_message_unblocked(const NodeId& from, MessagePtr message) override;
    void on_messages_lost(const NodeId& from, std::string_view stream, std::uint64_t count) override;
    void on_messages_unsent(const NodeId& to, std::optional<std::uint64_t> count) override;
    // DiscoveryEvents
    void on_peer_found(const DiscoveredPeer& peer) override;
    void on_peer_lost(const NodeId& peer, LeaveReason reason) override;
    bool peer_alive(const NodeId& peer) override;

private:
    // Dials in flight to discovered peers not yet joined: at most this many
    // in all and from one source host; one not joined within the patience is
    // abandoned (the transport forgets it, closing its sockets).
    static constexpr std::size_t kMaxDials = 16;
    static constexpr std::size_t kMaxDialsPerHost = 8;
    static constexpr std::chrono::milliseconds kDialPatience{5000};
    // Dials a discovered peer in the slot `serial` just taken for it.
    void dial(const DiscoveredPeer& peer, std::uint64_t serial);
    // After a slot came free: dials the waiting peers that now get one.
    void dial_pending();
    void peers_changed();
    // A peer left, reported by the transport (on_peer_left) or by discovery.
    void peer_left(const NodeId& peer, LeaveReason reason, std::string_view detail);
    // The site's active bridge among the peers (the lowest id offering
    // kBridgeCapability), if any. Under mutex_.
    [[nodiscard]] std::optional<NodeId> site_bridge_locked() const;
    // No peer offers `capability`: through the site's bridge to other sites.
    // False when this mesh has no bridge.
    bool relay_tunnel(const std::string& capability, const MessagePtr& message,
                      const std::shared_ptr<ReplySlot>& slot);
    void try_tunnel(std::shared_ptr<std::vector<NodeId>> candidates, std::size_t start, std::size_t attempt,
                    std::string capability, MessagePtr message, std::shared_ptr<ReplySlot> slot);

    BusCore& core_;
    const PeerEvents& events_;
    const LocalNode self_;
    std::unique_ptr<Transport> transport_;
    std::unique_ptr<Discovery> discovery_;
    std::atomic<bool> started_{false};
    std::atomic<bool> withdrawn_{false};
    std::mutex withdraw_mutex_;

    mutable std::mutex mutex_;
    std::unordered_map<NodeId, PeerInfo> peers_;
    mutable std::condition_variable peers_cv_;  // notified by peers_changed()
    std::map<std::string, std::size_t> round_robin_;
    std::function<void(const std::vector<PeerInfo>&)> on_peers_changed_;
    std::atomic<std::uint64_t> refused_{0};
    std::atomic<std::uint64_t> reply_send_failures_{0};
    std::atomic<std::uint64_t> tunnel_failovers_{0};
    // Discovery said a peer left (or was replaced) while its link was alive.
    std::atomic<std::uint64_t> leave_claims_ignored_{0};
    DialBudget dials_{kMaxDials, kMaxDialsPerHost};
    static constexpr std::size_t kMaxPending = 256;
    PendingDials pending_{kMaxPending};              // found while no slot was free
    std::atomic<std::uint64_t> dials_deferred_{0};   // no slot: queued (or reported again by discovery)
    std::atomic<std::uint64_t> dials_abandoned_{0};  // not joined within kDialPatience
};

}  // namespace grav::detail
