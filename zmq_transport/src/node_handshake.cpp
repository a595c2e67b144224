// Node: the handshake (WHO/IAM, HELLO/WELCOME/REFUSE, SYNC/READY), joining and leaving
// (dialling and the sockets' monitors: node_dial.cpp).
#include "node.hpp"

#include "admission.hpp"
#include "endpoint.hpp"
#include "frames.hpp"
#include "node_tuning.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace grav::zmq {

using namespace tuning;
using std::chrono::milliseconds;

void Node::maybe_send_ready(PeerLink& link) {
    if (link.ready_sent || !link.dealer || !subscribed_here_.contains(link.id)) return;
    send_control(*link.dealer, wire::Control::ready, announcement_for(link));
    link.ready_sent = true;
    check_joined(link);
}

void Node::check_joined(PeerLink& link) {
    if (link.joined || !link.admitted || !link.welcomed || !link.ready_from_peer || !link.ready_sent) return;
    link.joined = true;
    send_ping(link, SteadyClock::now());
    set_live(link.id, true);
    bump(counters_.peers_joined);
    events_.on_peer_joined(link.info);
}

void Node::refuse(std::string_view identity, const std::string& reason, const std::string& endpoint) {
    bump(counters_.refused);
    log("refused " + endpoint + ": " + reason);
    send_control(*router_, wire::Control::refuse, wire::encode_reason(reason), identity);
    events_.on_peer_refused(endpoint, reason);
}

void Node::remove_peer(const NodeId& id, LeaveReason reason, const std::string& detail) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    std::unique_ptr<PeerLink> link = std::move(it->second);
    peers_.erase(it);
    withdraw_traffic(id);
    subscribed_here_.erase(id);
    set_live(id, false);
    poll_dirty_ = true;
    for (auto& out : link->outbox) {
        bump(counters_.send_failed);
        if (out.done)
            out.done(Error(Errc::no_peer, "peer " + id.short_str() + " left before the message went out"));
    }
    // Before retain() settles its streams: what was taken in order.
    if (link->tails_announced) send_got(*link);
    if (auto flush = stop_flush_.find(id); flush != stop_flush_.end() && !flush->second.gone_at) {
        flush->second.gone_at = SteadyClock::now();
    }
    retain(*link, reason);
    for (auto& m : manual_) {
        if (m.peer == id) {
            m.peer.reset();
            m.next_attempt =
                SteadyClock::now() + (reason == LeaveReason::withdrew ? options_.heartbeat_interval : 0ms);
            arm_timers(m.next_attempt);
        }
    }
    if (link->joined) {
        bump(counters_.peers_left);
        if (reason != LeaveReason::withdrew && reason != LeaveReason::local_stop)
            log("peer " + id.short_str() + " (" + link->info.name + ") left: " + to_string(reason) +
                (detail.empty() ? "" : ", " + detail));
        events_.on_peer_left(id, reason, detail);
    }
    // libzmq's I/O thread sends monitor events with a blocking send: stop
    // the monitor before its reader goes, or that thread hangs for good.
    if (link->dealer && link->monitor) zmq_socket_monitor(link->dealer->handle(), nullptr, 0);
    link->monitor.reset();
    // The other sockets close here; their linger lets a last goodbye out.
}

void Node::mark_down(PeerLink& link) {
    // Not alive from the moment a link drops, although the peer is reported
    // left only after down_grace (a goodbye may still explain the drop).
    set_live(link.id, false);
    if (!link.down_since) {
        link.down_since = SteadyClock::now();
        arm_timers(*link.down_since + down_grace);
    }
}

void Node::on_hello(std::string_view identity, const wire::Hello& hello, std::string_view peer_address,
                    const MessageId& incarnation, std::string_view member_key) {
    HelloVerdict verdict = vet_hello(hello, identity, peer_address, self_);
    switch (verdict.kind) {
        case HelloVerdict::Kind::admit: break;
        case HelloVerdict::Kind::malformed: malformed(verdict.reason); return;
        case HelloVerdict::Kind::refuse: refuse(identity, verdict.reason, verdict.who); return;
        case HelloVerdict::Kind::refuse_group:
            refuse(identity, verdict.reason, verdict.who);
            if (find(hello.node)) remove_peer(hello.node, LeaveReason::refused, verdict.reason);
            return;
    }
    if (secure()) {
        // The ZAP handler admitted the connection and named its member key.
        if (member_key.empty()) {
            bump(counters_.auth_refused);
            refuse(identity, "secure mode: its connection has no member key", verdict.who);
            return;
        }
        // With an allow-list a node id belongs to one key: a member cannot
        // take over another member's node id.
        if (const PeerLink* known = find(hello.node);
            known && !known->public_key.empty() && known->public_key != member_key &&
            options_.security->mode() == security::Policy::Mode::allow_list) {
            bump(counters_.auth_refused);
            refuse(identity,
                   "node id " + hello.node.short_str() + " belongs to key " + known->public_key +
                       ", not to " + std::string(member_key),
                   verdict.who);
            return;
        }
    }
    PeerInfo info = std::move(verdict.peer);
    info.last_seen = SteadyClock::now();
    if (PeerLink* existing = find(hello.node); existing && existing->admitted) {
        if (!existing->joined) {  // a repeated HELLO during the handshake
            send_control(*router_, wire::Control::welcome,
                         wire::encode_welcome({.features = wire::feature_ping}), identity);
            return;
        }
        // It rebuilt its side of the link (it saw ours drop): so do we.
        remove_peer(hello.node, LeaveReason::timed_out, "it re-dialled");
    }
    // A new node id where another peer was: that peer restarted.
    std::vector<NodeId> replaced;
    for (const auto& [id, link] : peers_) {
        if (id != hello.node && link->admitted && link->info.endpoints.size() > 0 &&
            link->info.endpoints[0] == info.endpoints[0]) {
            replaced.push_back(id);
        }
    }
    for (const auto& id : replaced)
        remove_peer(id, LeaveReason::replaced, "new node " + hello.node.short_str() + " at its endpoint");

    Status admitted = events_.admit(info);
    if (!admitted) {
        refuse(identity, admitted.error().reason(), info.endpoints[0]);
        if (find(hello.node)) remove_peer(hello.node, LeaveReason::refused, admitted.error().reason());
        return;
    }
    PeerLink& link = link_for(hello.node);
    link.info = std::move(info);
    link.admitted = true;
    link.incarnation = incarnation;
    restore(link);
    if (secure()) link.public_key = member_key;
    send_control(*router_, wire::Control::welcome, wire::encode_welcome({.features = wire::feature_ping}),
                 identity);
    ensure_dealer(link, link.info.endpoints[0]);
    ensure_sub(link, link.info.endpoints[1]);
    check_joined(link);
}

void Node::on_xpub() {
    Frames frames;
    for (int n = 0; n < receive_batch && receive(*xpub_, frames); ++n) {
        if (frames.count != 1 || frames.part[0].size() == 0) continue;
        const std::string_view text = frames.text(0);
        const bool subscribe = text.front() == 1;
        auto id = wire::parse_sync_topic(text.substr(1));
        if (!id) continue;  // an ordinary type subscription: libzmq filters for us
        if (subscribe) {
            subscribed_here_.insert(*id);
            if (PeerLink* link = find(*id)) maybe_send_ready(*link);
        } else {
            subscribed_here_.erase(*id);
            // Its SUB went away: the link is broken unless it is saying goodbye.
            if (PeerLink* link = find(*id); link && link->joined) {
                mark_down(*link);
                if (auto flush = stop_flush_.find(*id);
                    flush != stop_flush_.end() && !flush->second.gone_at) {
                    flush->second.gone_at = SteadyClock::now();
                }
            }
        }
    }
}

void Node::on_dealer(PeerLink& link) {
    Frames frames;
    const NodeId id = link.id;
    for (int n = 0; n < receive_batch; ++n) {
        PeerLink* current = find(id);
        if (!current || !current->dealer || !receive(*current->dealer, frames)) return;
        current->traffic->seen();
        auto control =
            frames.count == 3 && !frames.overflow ? wire::parse_control(frames.text(0)) : std::nullopt;
        if (!control || !*control) {
            malformed("reply from " + id.short_str() + " on the direct link is not a grav control message");
            continue;
        }
        // The origin is checked below: a WELCOME from another node is news, not an attack.
        auto header = wire::decode_control_header(frames.bytes(1), **control, NodeId{});
        if (!header) {
            malformed(std::string(frames.text(0).substr(1)) + " from " + id.short_str() + ": " +
                      header.error().reason());
            continue;
        }
        switch (**control) {
            case wire::Control::welcome:
                if (header->origin != id) {
                    // Dialled by contact expecting `id`, found another node there
                    // (it restarted): that node's own HELLO builds its link.
                    log("expected node " + id.short_str() + " at " + current->dial_endpoint + ", found " +
                        header->origin.short_str());
                    remove_peer(id, LeaveReason::replaced, "another node answered at its endpoint");
                    return;
                }
                current->welcomed = true;
                on_welcome_body(*current, frames.bytes(2));
                check_joined(*current);
                break;
            case wire::Control::pong: on_pong(*current, frames.bytes(2)); break;
            case wire::Control::refuse: {
                auto reason = wire::decode_reason(frames.bytes(2));
                const std::string why = reason ? *reason : "refused (unreadable reason)";
                bump(counters_.refused);
                log("refused by " + current->dial_endpoint + ": " + why);
                events_.on_peer_refused(current->dial_endpoint, why);
                for (auto& m : manual_) {
                    if (m.peer == id) m.given_up = true;
                }
                remove_peer(id, LeaveReason::refused, why);
                return;
            }
            default:
                malformed("control " + std::string(frames.text(0).substr(1)) + " is not for a DEALER");
                break;
        }
    }
}

::zmq::socket_t Node::monitor_socket(::zmq::socket_t& socket, int events) {
    const std::string address = "inproc://grav-monitor-" + std::to_string(++monitor_serial_);
    if (zmq_socket_monitor(socket.handle(), address.c_str(), events) != 0) throw ::zmq::error_t();
    ::zmq::socket_t monitor(context_, ::zmq::socket_type::pair);
    poller_.note_new(monitor.handle());  // a new socket: the poller asks it once
    monitor.set(::zmq::sockopt::linger, 0);
    try {
        monitor.connect(address);
    } catch (...) {
        zmq_socket_monitor(socket.handle(), nullptr, 0);
        throw;
    }
    return monitor;
}

}  // namespace grav::zmq
