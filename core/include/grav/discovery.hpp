#pragma once
// The interface a discovery mechanism implements: it finds other nodes and
// tells the hub, which dials them through the transport.
//
// Threading: start/stop/stats from any thread; DiscoveryEvents callbacks from
// the discovery's own thread.

#include <grav/error.hpp>
#include <grav/peer.hpp>
#include <grav/transport.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace grav {

struct DiscoveredPeer {
    NodeId id;
    std::string belongs_to;
    Contact contact;  // host = the address its beacon actually came from
};

class DiscoveryEvents {
public:
    virtual ~DiscoveryEvents() = default;
    // A node not seen before (or seen again after it was lost).
    virtual void on_peer_found(const DiscoveredPeer& peer) = 0;
    // It said it leaves (LeaveReason::withdrew) or went silent (timed_out).
    virtual void on_peer_lost(const NodeId& peer, LeaveReason reason) = 0;
    // Asked before expiring a silent peer: true when the transport still sees
    // the peer alive (heartbeats count as signs of life).
    virtual bool peer_alive(const NodeId& peer) = 0;
};

class Discovery {
public:
    virtual ~Discovery() = default;
    Discovery() = default;
    Discovery(const Discovery&) = delete;
    Discovery& operator=(const Discovery&) = delete;

    // Starts announcing `self` reachable at `contact` and listening.
    virtual Status start(const LocalNode& self, const Contact& contact, DiscoveryEvents& events) = 0;
    // Sends a leaving announcement, stops. Idempotent; no callbacks after it.
    virtual void stop() = 0;
    [[nodiscard]] virtual std::map<std::string, std::uint64_t> stats() const = 0;
    // Optional: what each stats() key is, as Transport::describe_metrics.
    [[nodiscard]] virtual std::vector<MetricInfo> describe_metrics() const { return {}; }
    // The nodes it has heard and not lost since (whether or not the bus is
    // linked to them yet): a caller compares them with Bus::peers() to tell
    // whether discovery has settled. Empty for a mechanism that cannot say.
    [[nodiscard]] virtual std::vector<NodeId> heard() const { return {}; }
};

}  // namespace grav
