// BusCore: the counters — this bus's own (stats()), and those of other
// nodes, asked over the mesh (node_stats(), grav.sys.stats; their side is
// in BusCore::on_system_message).
#include "bus_core.hpp"

#include "bridge_link.hpp"
#include "hub.hpp"

namespace grav::detail {

std::vector<Result<NodeReport>> BusCore::node_stats(const std::vector<NodeId>& nodes,
                                                    std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<MessageId> asked;
    std::vector<std::size_t> asked_at;  // index in `nodes`
    std::vector<MessagePtr> requests;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!hub_ || closed() || !hub_->has_peer(nodes[i])) continue;
        requests.push_back(stats_request(node_id_));
        asked.push_back(requests.back()->id());
        asked_at.push_back(i);
    }
    stats_requests_.expect(asked);  // before any answer can come
    for (std::size_t k = 0; k < requests.size(); ++k) hub_->send_direct(nodes[asked_at[k]], requests[k]);
    auto answers = stats_requests_.collect(asked, deadline);
    std::vector<Result<NodeReport>> out;
    out.reserve(nodes.size());
    std::size_t k = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (k < asked_at.size() && asked_at[k] == i) {
            out.push_back(std::move(answers[k++]));
        } else {
            out.emplace_back(
                Error(Errc::no_peer, "node " + nodes[i].short_str() + " is no peer of this node"));
        }
    }
    return out;
}

BusStats BusCore::stats() const {
    BusStats s;
    s.sent = counters_->sent.load(std::memory_order_relaxed);
    s.delivered = counters_->delivered.load(std::memory_order_relaxed);
    s.failed = counters_->failed.load(std::memory_order_relaxed);
    s.redelivered = counters_->redelivered.load(std::memory_order_relaxed);
    s.dropped = counters_->dropped.load(std::memory_order_relaxed);
    s.disconnected_by_bus = counters_->disconnected_by_bus.load(std::memory_order_relaxed);
    s.received_from_peers = counters_->received_from_peers.load(std::memory_order_relaxed);
    {
        std::lock_guard lock(registry_mutex_);
        s.pods = pods_.size();
        for (const auto& [id, pod] : pods_) s.queue_depth += pod->queue_depth();
    }
    if (hub_) {
        s.peers = hub_->peer_count();
        s.network = hub_->network_stats();
    }
    if (bridge_) {
        for (auto& [k, v] : bridge_->stats()) s.network[k] = v;
    }
    return s;
}

}  // namespace grav::detail
