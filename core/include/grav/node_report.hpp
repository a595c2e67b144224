#pragma once
// Another node's counters, as it answered a grav.sys.stats request
// (Bus::node_stats, docs/PROTOCOL.md "Node statistics"): what `grav stats`
// prints.

#include <grav/id.hpp>
#include <grav/peer_traffic.hpp>
#include <grav/stats.hpp>

#include <string>
#include <vector>

namespace grav {

struct NodeReport {
    NodeId node;
    std::string name;
    BusStats stats;                  // its bus, transport and discovery counters
    std::vector<PeerTraffic> peers;  // its per-peer traffic and health
};

}  // namespace grav
