#pragma once
// The Bus (Grav's `Grav` instance): owns the pods and the worker pool, routes
// messages between pods and, with a transport, to and from other nodes.

#include <grav/bridge.hpp>
#include <grav/discovery.hpp>
#include <grav/error.hpp>
#include <grav/message.hpp>
#include <grav/metric.hpp>
#include <grav/node_report.hpp>
#include <grav/overflow_policy.hpp>
#include <grav/peer.hpp>
#include <grav/pod.hpp>
#include <grav/stats.hpp>
#include <grav/transport.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace grav {

struct BusOptions {
    std::unique_ptr<Transport> transport{};  // none: a standalone in-process bus
    std::unique_ptr<Discovery> discovery{};  // none: peers only by connect_endpoint
    std::unique_ptr<Bridge> bridge{};        // none: this site only (grav::nats::bridge joins sites)
    std::string belongs_to = "*";            // group; nodes of different groups never mesh
    std::vector<std::string> interests{};    // capabilities this node serves (tunnel)
    std::string name{};                      // for humans; default "<hostname>-<pid>"
    std::size_t workers = 0;                 // 0: one per hardware thread
    std::size_t mailbox_capacity = 4096;     // per pod
    OverflowPolicy overflow = OverflowPolicy::block;
    std::size_t replay_capacity = 256;              // history kept for connect_with_replay (0: none)
    std::size_t failure_high_water = 64;            // failed messages held before a pod is disconnected
    std::size_t max_buffered_replies = 1024;        // per receipt, replies kept until taken
    std::chrono::milliseconds drain_timeout{2000};  // stop(): how long queued work may finish
    std::optional<NodeId> node_id{};                // default: random
    // Called with the bus's counters every stats_interval, from a thread of
    // the bus's own, and once more when the bus stops (the final figures):
    // for programs that push metrics elsewhere. None: no thread. The
    // callback must not block for long, nor stop or destroy the bus.
    std::function<void(const BusStats&)> on_stats{};
    std::chrono::milliseconds stats_interval{10000};
};

// Thrown by the Bus constructor when the bus cannot start (a port in use, a
// bad bind address, discovery without a transport): the only exception grav
// throws, because a constructor has no other way to say no.
class StartError : public std::runtime_error {
public:
    explicit StartError(Error error) : std::runtime_error(error.what()), error_(std::move(error)) {}
    [[nodiscard]] const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

class Bus {
public:
    Bus();
    // Starts the transport and discovery, if any; throws StartError on failure.
    explicit Bus(BusOptions options);
    ~Bus();  // stop()
    Bus(const Bus&) = delete;
    Bus& operator=(const Bus&) = delete;
    // Movable: the bus's state lives behind one shared core (pods hold it
    // too). A moved-from Bus may only be destroyed or assigned to.
    Bus(Bus&&) noexcept = default;
    Bus& operator=(Bus&& other) noexcept;

    Pod connect();
    // A pod that receives the bus's recent history when it sets its first handler.
    Pod connect_with_replay();

    // Manual mesh: dial another node's endpoint (needs a transport). Returns
    // once the dial is under way, not when the peer is ready: wait_for_peers.
    Status connect_endpoint(std::string_view endpoint);
    // Waits until at least `count` peers are ready (joined both ways) and
    // returns them; Errc::timeout (saying how many were ready) when the
    // timeout passes first, Errc::closed when the bus withdraws meanwhile,
    // Errc::invalid_argument without a transport.
    [[nodiscard]] Result<std::vector<PeerInfo>> wait_for_peers(std::size_t count,
                                                               std::chrono::milliseconds timeout) const;
    // Waits until the peer with this id is ready; errors as wait_for_peers.
    [[nodiscard]] Result<PeerInfo> wait_for_peer(const NodeId& id, std::chrono::milliseconds timeout) const;
    // This node's endpoint for connect_endpoint, "" without a transport.
    [[nodiscard]] std::string endpoint() const;

    // Graceful leave of the mesh: stop discovery, tell peers, close the
    // transport. Local pods keep working. Idempotent.
    void withdraw();
    // Let queued messages drain (up to drain_timeout), withdraw(), disconnect
    // every pod (reason bus_stopped), join the workers. Idempotent.
    void stop();

    [[nodiscard]] const NodeId& node_id() const noexcept;
    [[nodiscard]] const std::string& name() const noexcept;
    [[nodiscard]] BusStats stats() const;
    // Every counter of stats() and peer_traffic() as metric families
    // (grav/metric.hpp): names under "grav_", counters ending in "_total",
    // gauges for current values, per-peer series labelled peer="<node id>"
    // (and peer_name). Any thread; a consistent snapshot of each counter,
    // not of all at once.
    [[nodiscard]] std::vector<MetricFamily> metrics() const;
    // metrics() in the Prometheus text exposition format 0.0.4 (what
    // grav::metrics serves at /metrics): # HELP and # TYPE for each family.
    [[nodiscard]] std::string metrics_text() const;
    [[nodiscard]] std::vector<PeerInfo> peers() const;
    // Per-peer traffic and health as the transport sees it (Transport::traffic);
    // empty without a transport or when it keeps none.
    [[nodiscard]] std::vector<PeerTraffic> peer_traffic() const;
    // Asks each of `nodes` (peers in view) for its counters (grav.sys.stats,
    // docs/PROTOCOL.md "Node statistics"), all at once, and waits up to
    // `timeout` for the answers: one result per node, in order; Errc::no_peer
    // for a node that is no peer, Errc::timeout for one that did not answer.
    [[nodiscard]] std::vector<Result<NodeReport>> node_stats(const std::vector<NodeId>& nodes,
                                                             std::chrono::milliseconds timeout);
    // The nodes discovery has heard and not lost since (Discovery::heard):
    // those not in peers() yet are still being dialled, or will never answer.
    // Empty without discovery.
    [[nodiscard]] std::vector<NodeId> discovered() const;
    // Peers joining and leaving, with the reason. Called from the network
    // thread (or from the thread calling withdraw/stop, for the peers left
    // behind): keep it short, do not block. One callback per bus: a second
    // call replaces the first (an empty function removes it).
    void on_peer(std::function<void(const PeerEvent&)> callback);

private:
    std::shared_ptr<detail::BusCore> core_;
};

}  // namespace grav
