#include "counters.hpp"

namespace grav::beacon {
namespace {

struct Named {
    const char* name;
    const char* help;  // for the metrics (describe())
};
constexpr std::array<Named, static_cast<std::size_t>(Counter::count_)> kNames{{
    {"beacon.sent", "Beacons sent (every datagram, every target)"},
    {"beacon.send_failed", "Beacon sends the kernel refused (interface down, no route)"},
    {"beacon.received", "Datagrams that decoded as beacons"},
    {"beacon.answered", "Immediate answers to a new or restarted peer"},
    {"beacon.own", "This node's own beacons, heard back"},
    {"beacon.foreign", "Datagrams with the wrong magic (another protocol on the port)"},
    {"beacon.unknown_version", "Beacons of an unknown version"},
    {"beacon.oversized", "Datagrams longer than the longest beacon"},
    {"beacon.malformed", "Beacons that did not decode"},
    {"beacon.foreign_group", "Beacons of a group that does not match this node's"},
    {"beacon.other_interface", "Beacons that arrived on an interface the options exclude"},
    {"beacon.peer_limit", "New peers ignored because max_peers are tracked"},
    {"beacon.peers_found", "Peers found"},
    {"beacon.peers_withdrew", "Peers that said they leave"},
    {"beacon.peers_timed_out", "Peers that went silent"},
    {"beacon.peers_replaced", "Peers replaced by a new node id at a known address"},
    {"beacon.address_conflict", "Times two live nodes beaconed the same address and port"},
    {"beacon.redial", "Peers found again: still beaconing, but the transport had no live link"},
    {"beacon.kept_alive", "Silent peers kept because the transport still saw them alive"},
    {"beacon.callback_threw", "Discovery callbacks that threw (caught)"},
    {"beacon.unsigned", "Secure mode: plain beacons dropped"},
    {"beacon.not_admitted", "Secure mode: beacons signed by a key the policy does not admit"},
    {"beacon.bad_signature", "Secure mode: beacons whose signature does not match"},
    {"beacon.replayed", "Secure mode: beacons older than the last one accepted from that node"},
    {"beacon.duplicate", "Secure mode: the last accepted beacon heard again on another path"},
    {"beacon.stale", "Secure mode: beacons stamped outside the clock tolerance"},
    {"beacon.signed_ignored", "Plain mode: signed beacons ignored"},
}};
// Every counter has a name (a missing initializer would be a null pointer).
static_assert(kNames.back().name != nullptr);

}  // namespace

std::map<std::string, std::uint64_t> Counters::snapshot() const {
    std::map<std::string, std::uint64_t> out;
    for (std::size_t i = 0; i < kNames.size(); ++i)
        out[kNames[i].name] = values_[i].load(std::memory_order_relaxed);
    return out;
}

std::vector<MetricInfo> Counters::describe() {
    std::vector<MetricInfo> out;
    out.reserve(kNames.size());
    for (const Named& n : kNames) out.push_back({n.name, MetricKind::counter, n.help});
    return out;
}

}  // namespace grav::beacon
