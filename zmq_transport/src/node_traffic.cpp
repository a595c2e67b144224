// Node: per-peer traffic and health (grav::PeerTraffic) — the counters'
// registry for traffic(), and the round trip: our HELLO until its WELCOME
// at the handshake, then a PING the peer echoes as PONG every
// ping_interval (docs/PROTOCOL.md, "Round trip"). Only peers whose WELCOME
// says they answer are pinged, so an older peer never sees a PING.
#include "node.hpp"

#include <utility>

namespace grav::zmq {

std::vector<PeerTraffic> Node::traffic() const {
    std::vector<std::pair<NodeId, std::shared_ptr<PeerCounters>>> links;
    {
        std::lock_guard lock(traffic_mutex_);
        links.assign(traffic_.begin(), traffic_.end());
    }
    std::vector<PeerTraffic> out;
    out.reserve(links.size());
    for (const auto& [id, counters] : links) out.push_back(counters->snapshot(id));
    return out;
}

void Node::publish_traffic(const PeerLink& link) {
    std::lock_guard lock(traffic_mutex_);
    traffic_[link.id] = link.traffic;
}

void Node::withdraw_traffic(const NodeId& id) {
    std::lock_guard lock(traffic_mutex_);
    traffic_.erase(id);
}

void Node::on_welcome_body(PeerLink& link, std::span<const std::byte> body) {
    if (link.hello_sent) {
        link.traffic->round_trip(SteadyClock::now() - *link.hello_sent);
        link.hello_sent.reset();
    }
    auto welcome = wire::decode_welcome(body);
    if (!welcome) {
        malformed("WELCOME from " + link.id.short_str() + ": " + welcome.error().reason());
        return;
    }
    link.answers_ping = (welcome->features & wire::feature_ping) != 0;
}

void Node::send_pings(SteadyTime now) {
    if (options_.ping_interval.count() <= 0 || now < next_ping_) return;
    next_ping_ = now + options_.ping_interval;
    for (auto& [id, link] : peers_) send_ping(*link, now);
}

void Node::send_ping(PeerLink& link, SteadyTime now) {
    if (options_.ping_interval.count() <= 0 || !link.joined || !link.answers_ping || !link.dealer ||
        link.bye_direct || link.down_since)
        return;
    // An unanswered PING is forgotten: its PONG, if late, matches nothing.
    link.ping_sent = now;
    send_control(*link.dealer, wire::Control::ping, wire::encode_echo(++link.ping_token));
}

void Node::on_pong(PeerLink& link, std::span<const std::byte> body) {
    auto token = wire::decode_echo(body);
    if (!token) {
        malformed("PONG from " + link.id.short_str() + ": " + token.error().reason());
        return;
    }
    if (!link.ping_sent || *token != link.ping_token) return;  // late, or not ours
    link.traffic->round_trip(SteadyClock::now() - *link.ping_sent);
    link.ping_sent.reset();
}

}  // namespace grav::zmq
