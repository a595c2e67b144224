#include "bus_metrics.hpp"

#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

namespace grav::detail {
namespace {

using enum MetricKind;

// The bus's own counters: BusStats' fields, under "bus.".
std::vector<std::pair<MetricInfo, std::uint64_t>> bus_entries(const BusStats& s) {
    return {
        {{"bus.pods", gauge, "Pods connected to the bus now"}, s.pods},
        {{"bus.sent", counter, "Messages sent by local pods (publish, send, reply)"}, s.sent},
        {{"bus.delivered", counter, "Handler calls that succeeded, redeliveries included"}, s.delivered},
        {{"bus.failed", counter, "Handler calls that failed (returned failure or threw)"}, s.failed},
        {{"bus.redelivered", counter, "Failed messages delivered again"}, s.redelivered},
        {{"bus.dropped", counter, "Messages meant for a pod that it never handled"}, s.dropped},
        {{"bus.queue_depth", gauge, "Messages waiting in the pods' mailboxes now"}, s.queue_depth},
        {{"bus.disconnected_by_bus", counter, "Pods the bus disconnected (failures, overflow)"},
         s.disconnected_by_bus},
        {{"bus.received_from_peers", counter, "Messages that came in from other nodes through the transport"},
         s.received_from_peers},
        {{"bus.peers", gauge, "Peers ready now (joined both ways)"}, s.peers},
    };
}

double seconds(std::chrono::duration<double> d) { return d.count(); }

void add_peer_families(const MetricsInput& in, std::vector<MetricFamily>& out) {
    if (in.traffic.empty()) return;
    std::unordered_map<NodeId, std::string> names;
    for (const auto& p : in.peers) names.emplace(p.id, p.name);
    auto labels_of = [&names](const NodeId& id) {
        MetricLabels labels{{"peer", id.str()}};
        if (auto it = names.find(id); it != names.end() && !it->second.empty())
            labels.emplace_back("peer_name", it->second);
        return labels;
    };
    struct Column {
        const char* key;
        MetricKind kind;
        const char* help;
        std::uint64_t PeerTraffic::*field;
    };
    static constexpr Column kColumns[] = {
        {"peer.messages_sent", counter,
         "Direct messages (replies, send_to) sent to this peer; fan-out is one send to all and not counted "
         "per peer",
         &PeerTraffic::messages_sent},
        {"peer.bytes_sent", counter, "Bytes of direct messages sent to this peer", &PeerTraffic::bytes_sent},
        {"peer.messages_received", counter, "Data messages accepted from this peer",
         &PeerTraffic::messages_received},
        {"peer.bytes_received", counter, "Bytes of data messages accepted from this peer",
         &PeerTraffic::bytes_received},
        {"peer.resent", counter, "Messages sent to this peer again on its request", &PeerTraffic::resent},
        {"peer.lost", counter, "Messages from this peer given up (gaps not recovered)", &PeerTraffic::lost},
    };
    for (const Column& column : kColumns) {
        MetricFamily family{metric_name(column.key, column.kind), column.kind, column.help, {}};
        for (const PeerTraffic& t : in.traffic)
            family.samples.push_back({labels_of(t.peer), static_cast<double>(t.*(column.field))});
        out.push_back(std::move(family));
    }
    MetricFamily rtt{"grav_peer_rtt_seconds", gauge, "Last measured round trip to this peer", {}};
    MetricFamily seen{"grav_peer_last_seen_timestamp_seconds",
                      gauge,
                      "When the last frame came from this peer (Unix time)",
                      {}};
    for (const PeerTraffic& t : in.traffic) {
        if (t.rtt) rtt.samples.push_back({labels_of(t.peer), seconds(*t.rtt)});
        if (t.last_seen)
            seen.samples.push_back({labels_of(t.peer), seconds(t.last_seen->time_since_epoch())});
    }
    if (!rtt.samples.empty()) out.push_back(std::move(rtt));
    if (!seen.samples.empty()) out.push_back(std::move(seen));
}

}  // namespace

std::vector<MetricFamily> collect_metrics(const MetricsInput& in) {
    std::map<std::string, MetricFamily> by_name;  // ordered, unique
    auto add = [&by_name](const MetricInfo& info, double value) {
        std::string name = metric_name(info.key, info.kind);
        // Two keys that differ only in characters outside [A-Za-z0-9_]
        // would share a name: the later one gets a suffix, never dropped.
        for (int n = 2; by_name.contains(name); ++n)
            name = metric_name(info.key + "_" + std::to_string(n), info.kind);
        by_name.emplace(name, MetricFamily{name, info.kind, info.help, {{{}, value}}});
    };

    MetricFamily node{"grav_node_info",
                      gauge,
                      "This node: its id and name as labels, value 1",
                      {{{{"node_id", in.node.str()}, {"name", in.name}}, 1.0}}};
    by_name.emplace(node.name, std::move(node));
    for (const auto& [info, value] : bus_entries(in.stats)) add(info, static_cast<double>(value));

    std::unordered_map<std::string_view, const MetricInfo*> declared;
    for (const MetricInfo& info : in.declared) declared.emplace(info.key, &info);
    for (const auto& [key, value] : in.stats.network) {
        if (auto it = declared.find(key); it != declared.end()) {
            add(*it->second, static_cast<double>(value));
        } else {
            add({key, untyped, "'" + key + "' (its module does not declare what it is)"},
                static_cast<double>(value));
        }
    }

    std::vector<MetricFamily> out;
    out.reserve(by_name.size() + 8);
    for (auto& [name, family] : by_name) out.push_back(std::move(family));
    add_peer_families(in, out);
    return out;
}

}  // namespace grav::detail
