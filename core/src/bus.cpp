#include "bridge_link.hpp"
#include "bus_core.hpp"
#include "bus_metrics.hpp"
#include "hub.hpp"
#include "prometheus_text.hpp"

#include <grav/bus.hpp>

namespace grav {

Bus::Bus() : Bus(BusOptions{}) {}

Bus::Bus(BusOptions options) : core_(std::make_shared<detail::BusCore>(std::move(options))) {
    if (auto s = core_->start(); !s) {
        core_->stop();
        throw StartError(s.error());
    }
}

Bus::~Bus() {
    if (core_) stop();
}

Bus& Bus::operator=(Bus&& other) noexcept {
    if (this != &other) {
        if (core_) stop();
        core_ = std::move(other.core_);
    }
    return *this;
}

Result<std::vector<PeerInfo>> Bus::wait_for_peers(std::size_t count,
                                                  std::chrono::milliseconds timeout) const {
    detail::Hub* hub = core_->hub();
    if (hub == nullptr) return Error(Errc::invalid_argument, "this bus has no transport: it has no peers");
    std::vector<PeerInfo> peers;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (hub->wait_peers([count](const auto& now) { return now.size() >= count; }, deadline, peers))
        return peers;
    if (core_->closed() || std::chrono::steady_clock::now() < deadline) {
        return Error(Errc::closed, "the bus left the mesh while waiting for peers");
    }
    return Error(Errc::timeout, std::to_string(peers.size()) + " of " + std::to_string(count) +
                                    " peer(s) ready after " + std::to_string(timeout.count()) + " ms");
}

Result<PeerInfo> Bus::wait_for_peer(const NodeId& id, std::chrono::milliseconds timeout) const {
    detail::Hub* hub = core_->hub();
    if (hub == nullptr) return Error(Errc::invalid_argument, "this bus has no transport: it has no peers");
    std::vector<PeerInfo> peers;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const bool ready =
        hub->wait_peers([&id](const auto& now) { return now.count(id) != 0; }, deadline, peers);
    for (auto& p : peers) {
        if (ready && p.id == id) return std::move(p);
    }
    if (core_->closed() || std::chrono::steady_clock::now() < deadline) {
        return Error(Errc::closed, "the bus left the mesh while waiting for node " + id.short_str());
    }
    return Error(Errc::timeout,
                 "node " + id.short_str() + " not ready after " + std::to_string(timeout.count()) + " ms");
}

Pod Bus::connect() {
    auto state = core_->create_pod(false);
    if (state == nullptr) {
        // A stopped bus hands out pods that are already disconnected.
        return Pod(core_, nullptr);
    }
    return Pod(core_, std::move(state));
}

Pod Bus::connect_with_replay() {
    auto state = core_->create_pod(true);
    return Pod(core_, std::move(state));
}

Status Bus::connect_endpoint(std::string_view endpoint) {
    if (core_->closed()) return Error(Errc::closed, "the bus is stopped");
    if (core_->hub() == nullptr) return Error(Errc::invalid_argument, "this bus has no transport");
    return core_->hub()->connect_endpoint(endpoint);
}

std::string Bus::endpoint() const { return core_->hub() ? core_->hub()->endpoint() : std::string(); }

void Bus::withdraw() { core_->withdraw(); }

void Bus::stop() { core_->stop(); }

const NodeId& Bus::node_id() const noexcept { return core_->node_id(); }

const std::string& Bus::name() const noexcept { return core_->name(); }

BusStats Bus::stats() const { return core_->stats(); }

std::vector<MetricFamily> Bus::metrics() const {
    detail::MetricsInput input{core_->node_id(), core_->name(), core_->stats(), {}, {}, {}};
    if (detail::Hub* hub = core_->hub()) {
        input.declared = hub->describe_metrics();
        input.traffic = hub->traffic();
        input.peers = hub->peers();
    }
    if (detail::BridgeLink* bridge = core_->bridge()) {
        auto more = bridge->describe_metrics();
        input.declared.insert(input.declared.end(), more.begin(), more.end());
    }
    return detail::collect_metrics(input);
}

std::string Bus::metrics_text() const { return detail::render_prometheus_text(metrics()); }

std::vector<NodeId> Bus::discovered() const {
    return core_->hub() ? core_->hub()->discovered() : std::vector<NodeId>{};
}

std::vector<PeerInfo> Bus::peers() const { return core_->hub() ? core_->hub()->peers() : std::vector<PeerInfo>{}; }

std::vector<Result<NodeReport>> Bus::node_stats(const std::vector<NodeId>& nodes,
                                                std::chrono::milliseconds timeout) {
    return core_->node_stats(nodes, timeout);
}

std::vector<PeerTraffic> Bus::peer_traffic() const {
    return core_->hub() ? core_->hub()->traffic() : std::vector<PeerTraffic>{};
}

void Bus::on_peer(std::function<void(const PeerEvent&)> callback) {
    core_->on_peer(std::move(callback));
}

}  // namespace grav
