#pragma once
// Turns a bus's counters (BusStats, its network map, per-peer traffic) into
// metric families: one place that knows every name, type and help line of
// the bus itself, and that applies what the modules declared to the rest.

#include <grav/id.hpp>
#include <grav/metric.hpp>
#include <grav/peer.hpp>
#include <grav/peer_traffic.hpp>
#include <grav/stats.hpp>

#include <string>
#include <vector>

namespace grav::detail {

struct MetricsInput {
    NodeId node;
    std::string name;
    BusStats stats;
    std::vector<MetricInfo> declared;  // what the hub, transport, discovery and bridge declared
    std::vector<PeerTraffic> traffic;
    std::vector<PeerInfo> peers;  // for the peer_name label
};

// Every entry of `stats` (fields and network map) becomes one family, named
// by metric_name(); an undeclared key becomes `untyped`, never left out.
// Families are ordered by name; names are unique.
[[nodiscard]] std::vector<MetricFamily> collect_metrics(const MetricsInput& input);

}  // namespace grav::detail
