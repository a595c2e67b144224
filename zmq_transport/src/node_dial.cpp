// Node, dialling: probes of manual endpoints (WHO/IAM), the DEALER and SUB
// a link dials, and the socket monitors that say a connection came or went.
#include "node.hpp"

#include "admission.hpp"
#include "endpoint.hpp"
#include "frames.hpp"
#include "node_tuning.hpp"
#include "wire/monitor_event.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace grav::zmq {

using namespace tuning;
using std::chrono::milliseconds;

void Node::start_probe(const std::string& endpoint) {
    try {
        ::zmq::socket_t dealer = make_socket(::zmq::socket_type::dealer);
        dealer.set(::zmq::sockopt::linger, 0);
        const KeyedEndpoint target = split_key_suffix(endpoint);
        if (!secure_client(dealer, dial_key(target.public_key), target.endpoint)) {
            events_.on_peer_refused(endpoint, "no member key to dial it securely");
            for (auto& m : manual_) {
                if (m.endpoint == endpoint) {
                    m.probing = false;
                    m.given_up = true;
                }
            }
            return;
        }
        std::optional<::zmq::socket_t> monitor;
        if (secure()) monitor.emplace(monitor_socket(dealer, handshake_failure_events()));
        // Owned by the Probe first: should connect throw, it stops the monitor before closing.
        Probe probe(endpoint, std::move(dealer), SteadyClock::now() + options_.handshake_timeout,
                    std::move(monitor));
        probe.dealer.connect(target.endpoint);
        send_control(probe.dealer, wire::Control::who);
        probes_.push_back(std::move(probe));
        arm_timers(probes_.back().deadline);
        poll_dirty_ = true;
    } catch (const ::zmq::error_t& e) {
        log("cannot dial " + endpoint + ": " + e.what());
        events_.on_peer_refused(endpoint, std::string("cannot dial: ") + e.what());
        for (auto& m : manual_) {
            if (m.endpoint == endpoint) {
                m.probing = false;
                m.given_up = true;
            }
        }
    }
}

void Node::on_probe(std::size_t index) {
    if (index >= probes_.size()) return;
    Frames frames;
    if (!receive(probes_[index].dealer, frames)) return;
    const std::string endpoint = probes_[index].endpoint;
    probes_.erase(probes_.begin() + static_cast<std::ptrdiff_t>(index));
    poll_dirty_ = true;
    auto finish = [&](std::optional<NodeId> peer, bool give_up) {
        for (auto& m : manual_) {
            if (m.endpoint != endpoint) continue;
            m.probing = false;
            m.peer = peer;
            m.given_up = give_up;
            m.next_attempt = SteadyClock::now() + options_.heartbeat_interval;
            arm_timers(m.next_attempt);
        }
    };
    auto control = frames.count == 3 ? wire::parse_control(frames.text(0)) : std::nullopt;
    if (!control || !*control || **control != wire::Control::iam) {
        malformed("answer to WHO from " + endpoint + " is not IAM");
        finish(std::nullopt, false);
        return;
    }
    auto hello = wire::decode_hello(frames.bytes(2));
    if (!hello) {
        malformed("IAM from " + endpoint + ": " + hello.error().reason());
        finish(std::nullopt, false);
        return;
    }
    if (auto h = wire::decode_control_header(frames.bytes(1), wire::Control::iam, hello->node); !h) {
        malformed("IAM from " + endpoint + ": " + h.error().reason());
        finish(std::nullopt, false);
        return;
    }
    if (hello->node == self_.id) {
        events_.on_peer_refused(endpoint, "that endpoint is this node itself");
        finish(std::nullopt, true);
        return;
    }
    finish(hello->node, false);
    const KeyedEndpoint target = split_key_suffix(endpoint);
    if (!find(hello->node)) dial(target.endpoint, hello->node, target.public_key);
}

void Node::dial(const std::string& endpoint, const NodeId& expected, const std::string& public_key) {
    if (expected == self_.id) return;
    if (PeerLink* existing = find(expected); existing && existing->dealer) return;  // one link per pair
    PeerLink& link = link_for(expected);
    if (link.public_key.empty()) link.public_key = dial_key(public_key);
    link.dial_endpoint = endpoint;
    link.dialled_by_us = true;
    ensure_dealer(link, endpoint);
}

void Node::ensure_dealer(PeerLink& link, const std::string& endpoint) {
    if (link.dealer) return;
    try {
        ::zmq::socket_t dealer = make_socket(::zmq::socket_type::dealer);
        dealer.set(::zmq::sockopt::routing_id, self_routing_id_);
        // Told before connecting, so no connection event can be missed; in
        // secure mode the handshake's failures too, the only word a refused node gets.
        ::zmq::socket_t monitor = monitor_socket(dealer, ZMQ_EVENT_DISCONNECTED | handshake_failure_events());
        try {
            if (!secure_client(dealer, link.public_key, endpoint)) {
                zmq_socket_monitor(dealer.handle(), nullptr, 0);
                return;
            }
            dealer.connect(endpoint);
        } catch (...) {
            zmq_socket_monitor(dealer.handle(), nullptr, 0);  // before the PAIR closes
            throw;
        }
        link.dealer.emplace(std::move(dealer));
        link.monitor.emplace(std::move(monitor));
        if (link.dial_endpoint.empty()) link.dial_endpoint = endpoint;
        send_control(*link.dealer, wire::Control::hello, wire::encode_hello(hello_of_self()), {},
                     incarnation_);
        link.hello_sent = SteadyClock::now();  // its WELCOME measures the first round trip
        poll_dirty_ = true;
        maybe_send_ready(link);
    } catch (const ::zmq::error_t& e) {
        log("cannot dial " + endpoint + ": " + e.what());
    }
}

void Node::ensure_sub(PeerLink& link, const std::string& endpoint) {
    if (link.sub) return;
    try {
        ::zmq::socket_t sub = make_socket(::zmq::socket_type::sub);
        sub.set(::zmq::sockopt::linger, 0);
        if (!secure_client(sub, link.public_key, endpoint)) return;
        // Connect first, then subscribe: the subscriptions then travel in the
        // order given, and the SYNC one, last, proves all others are in place.
        sub.connect(endpoint);
        for (const auto& p : prefixes_) sub.set(::zmq::sockopt::subscribe, p);
        sub.set(::zmq::sockopt::subscribe, wire::topic_of(wire::Control::bye));
        sub.set(::zmq::sockopt::subscribe, wire::sync_topic(self_.id));
        link.sub.emplace(std::move(sub));
        poll_dirty_ = true;
    } catch (const ::zmq::error_t& e) {
        log("cannot subscribe to " + endpoint + ": " + e.what());
    }
}

bool Node::read_monitor_event(::zmq::socket_t& monitor, std::uint16_t& event, std::uint32_t& value) {
    Frames frames;
    while (receive(monitor, frames)) {
        if (frames.count < 1) continue;
        const auto read = wire::read_monitor_event(frames.part[0].data(), frames.part[0].size());
        if (!read) continue;
        event = read->event;
        value = read->value;
        return true;
    }
    return false;
}

void Node::on_monitor(PeerLink& link) {
    std::uint16_t event = 0;
    std::uint32_t value = 0;
    while (link.monitor && read_monitor_event(*link.monitor, event, value)) {
        if (event == ZMQ_EVENT_DISCONNECTED) {
            mark_down(link);
        } else {
            client_handshake_failed("node " + link.id.short_str() +
                                        (link.dial_endpoint.empty() ? "" : " at " + link.dial_endpoint),
                                    link.id.str(), event, value);
        }
    }
}

void Node::on_probe_monitor(std::size_t index) {
    std::uint16_t event = 0;
    std::uint32_t value = 0;
    while (index < probes_.size() && probes_[index].monitor &&
           read_monitor_event(*probes_[index].monitor, event, value)) {
        client_handshake_failed(probes_[index].endpoint, probes_[index].endpoint, event, value);
    }
}

}  // namespace grav::zmq
