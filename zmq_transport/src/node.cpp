#include "node.hpp"

#include "endpoint.hpp"
#include "frames.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

namespace grav::zmq {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// At most this many messages per socket per loop turn, so that one busy peer
// cannot starve the others, the inbox or the timers.
constexpr int receive_batch = 512;
// After a DEALER's connection drops, how long a goodbye may still explain it.
constexpr auto down_grace = 250ms;
// After a goodbye on one link, how long we wait for the other link's.
constexpr auto leave_wait = 500ms;
constexpr auto timer_period = 10ms;

int ms(milliseconds d) { return static_cast<int>(d.count()); }

std::string short_reason(const std::exception& e) { return e.what(); }

}  // namespace

Node::Node(Options options, LocalNode self, TransportEvents& events)
    : options_(std::move(options)),
      self_(std::move(self)),
      events_(events),
      self_routing_id_(wire::routing_id(self_.id)),
      inbox_(std::max<std::size_t>(options_.max_queued, 1)),
      context_(1) {}

Node::~Node() = default;

::zmq::socket_t Node::make_socket(::zmq::socket_type type) {
    ::zmq::socket_t socket(context_, type);
    socket.set(::zmq::sockopt::linger, ms(options_.linger));
    socket.set(::zmq::sockopt::sndhwm, options_.send_hwm);
    socket.set(::zmq::sockopt::rcvhwm, options_.recv_hwm);
    socket.set(::zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(options_.max_message_size));
    socket.set(::zmq::sockopt::handshake_ivl, ms(options_.handshake_timeout));
    // ZMTP heartbeats. A silent peer is noticed at most one interval (the
    // next PING) plus the ZMTP timeout after it froze, and then reported
    // after down_grace: keep the sum within heartbeat_timeout.
    const auto interval = std::max(options_.heartbeat_interval, milliseconds(1));
    const auto zmtp_timeout =
        std::max(options_.heartbeat_timeout - interval - std::chrono::duration_cast<milliseconds>(down_grace),
                 interval);
    socket.set(::zmq::sockopt::heartbeat_ivl, ms(interval));
    socket.set(::zmq::sockopt::heartbeat_timeout, ms(zmtp_timeout));
    socket.set(::zmq::sockopt::heartbeat_ttl, ms(options_.heartbeat_timeout));
    socket.set(::zmq::sockopt::reconnect_ivl, 100);
    socket.set(::zmq::sockopt::reconnect_ivl_max, 1000);
    return socket;
}

Status Node::bind() {
    auto parsed = parse_tcp_endpoint(options_.bind);
    if (!parsed) return parsed.error();
    try {
        router_.emplace(make_socket(::zmq::socket_type::router));
        router_->set(::zmq::sockopt::router_mandatory, 1);
        router_->set(::zmq::sockopt::router_handover, 1);
        router_->bind(options_.bind);
        auto bound = parse_tcp_endpoint(router_->get(::zmq::sockopt::last_endpoint));
        if (!bound) return bound.error();

        xpub_.emplace(make_socket(::zmq::socket_type::xpub));
        xpub_->set(::zmq::sockopt::xpub_nodrop, 1);  // backpressure, never silent drops
        xpub_->set(::zmq::sockopt::xpub_verbose, 1);  // every SYNC subscription reaches us
        TcpEndpoint xpub_bind = *parsed;
        xpub_bind.port = parsed->port == 0 ? 0 : static_cast<std::uint16_t>(parsed->port + 1);
        xpub_->bind(xpub_bind.host == "*" ? "tcp://*:" + std::to_string(xpub_bind.port) : xpub_bind.str());
        auto xbound = parse_tcp_endpoint(xpub_->get(::zmq::sockopt::last_endpoint));
        if (!xbound) return xbound.error();

        // Locally a wildcard is dialled at 127.0.0.1; peers are told "*" and
        // use the address our HELLO came from.
        const bool wildcard = parsed->wildcard();
        const std::string local_host = wildcard ? "127.0.0.1" : bound->host;
        endpoint_ = TcpEndpoint{local_host, bound->port}.str();
        contact_ = Contact{local_host, bound->port, xbound->port};
        const std::string told_host = wildcard ? "*" : bound->host;
        advertised_ = {TcpEndpoint{told_host, bound->port}.str(), TcpEndpoint{told_host, xbound->port}.str()};
    } catch (const ::zmq::error_t& e) {
        router_.reset();
        xpub_.reset();
        return Error(Errc::transport_failed, "cannot bind '" + options_.bind + "': " + e.what());
    }
    return success();
}

bool Node::alive(const NodeId& peer) const {
    std::lock_guard lock(live_mutex_);
    return live_.contains(peer);
}

void Node::set_live(const NodeId& id, bool live) {
    std::lock_guard lock(live_mutex_);
    if (live) {
        live_.insert(id);
    } else {
        live_.erase(id);
    }
}

void Node::log(const std::string& line) {
    // Hostile input must not turn into a log flood: ~20 lines a second.
    const auto now = SteadyClock::now();
    if (now - log_window_ > 1s) {
        log_window_ = now;
        log_lines_ = 0;
    }
    if (++log_lines_ > 20) return;
    const std::string text = "grav.zmq[" + self_.id.short_str() + "]: " + line;
    if (options_.log) {
        options_.log(text);
    } else {
        std::fprintf(stderr, "%s\n", text.c_str());
    }
}

void Node::malformed(const std::string& what) {
    bump(counters_.malformed);
    log("rejected: " + what);
}

wire::Hello Node::hello_of_self() const {
    return wire::Hello{
        .protocol = wire::protocol_version,
        .node = self_.id,
        .name = self_.name,
        .belongs_to = self_.belongs_to,
        .interests = self_.interests,
        .endpoints = advertised_,
    };
}

PeerLink* Node::find(const NodeId& id) {
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : it->second.get();
}

PeerLink& Node::link_for(const NodeId& id) {
    auto& slot = peers_[id];
    if (!slot) {
        slot = std::make_unique<PeerLink>();
        slot->id = id;
        slot->handshake_deadline = SteadyClock::now() + options_.handshake_timeout;
    }
    return *slot;
}

// ---------------------------------------------------------------- loop

void Node::run() {
    thread_id_ = std::this_thread::get_id();
    while (!inbox_.stop_requested()) {
        if (poll_dirty_) rebuild_poll_items();
        const bool held_back = !fanout_backlog_.empty();
        auto now = SteadyClock::now();
        auto timeout = held_back ? 1ms : std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(
                                                                        next_timers_ - now));
        timeout = std::min<milliseconds>(timeout, 100ms);
        try {
            ::zmq::poll(poll_items_, timeout);
        } catch (const ::zmq::error_t& e) {
            if (e.num() != EINTR) log(std::string("poll failed: ") + e.what());
            continue;
        }
        // Handlers never change these vectors, only mark them dirty. Once
        // they are dirty, a later item may name a closed socket: stop and
        // poll again (readiness is level-triggered, nothing is missed).
        for (std::size_t i = 0; i < poll_items_.size() && !poll_dirty_; ++i) {
            if ((poll_items_[i].revents & ZMQ_POLLIN) == 0) continue;
            try {
                const Source& source = sources_[i];
                switch (source.kind) {
                    case Source::Kind::wake: take_work(false); break;
                    case Source::Kind::router: on_router(); break;
                    case Source::Kind::xpub: on_xpub(); break;
                    case Source::Kind::dealer:
                        if (auto* link = find(source.peer); link && link->dealer) on_dealer(*link);
                        break;
                    case Source::Kind::sub:
                        if (auto* link = find(source.peer); link && link->sub) on_sub(*link);
                        break;
                    case Source::Kind::monitor:
                        if (auto* link = find(source.peer); link && link->monitor) on_monitor(*link);
                        break;
                    case Source::Kind::probe: on_probe(source.probe); break;
                }
            } catch (const std::exception& e) {
                // A bug or a ZeroMQ error on one socket must not stop the node.
                log("error while handling input: " + short_reason(e));
            }
        }
        if (!fanout_backlog_.empty() || !publishes_.empty()) flush_fanout();
        if (!publishes_.empty() || held_back) take_work(false);
        now = SteadyClock::now();
        if (now >= next_timers_) {
            run_timers(now);
            next_timers_ = now + timer_period;
        }
    }
    shutdown();
}

void Node::rebuild_poll_items() {
    poll_items_.clear();
    sources_.clear();
    auto add = [&](void* socket, int fd, Source source) {
        poll_items_.push_back(::zmq::pollitem_t{socket, fd, ZMQ_POLLIN, 0});
        sources_.push_back(std::move(source));
    };
    add(nullptr, inbox_.wake_fd(), Source{Source::Kind::wake, {}});
    add(router_->handle(), 0, Source{Source::Kind::router, {}});
    add(xpub_->handle(), 0, Source{Source::Kind::xpub, {}});
    for (auto& [id, link] : peers_) {
        if (link->dealer) add(link->dealer->handle(), 0, Source{Source::Kind::dealer, id});
        if (link->sub) add(link->sub->handle(), 0, Source{Source::Kind::sub, id});
        if (link->monitor) add(link->monitor->handle(), 0, Source{Source::Kind::monitor, id});
    }
    for (std::size_t i = 0; i < probes_.size(); ++i) {
        add(probes_[i].dealer.handle(), 0, Source{Source::Kind::probe, {}, i});
    }
    poll_dirty_ = false;
}

void Node::take_work(bool stopping) {
    // While the XPUB holds messages back, take no more publishes: the
    // inbox fills and publish() blocks its callers (backpressure).
    const std::size_t max = stopping || fanout_backlog_.empty() ? SIZE_MAX : 0;
    inbox_.take(commands_, publishes_, max);
    while (!commands_.empty()) {
        Command command = std::move(commands_.front());
        commands_.pop_front();
        handle(command);
    }
    flush_fanout();
}

void Node::handle(Command& command) {
    std::visit(
        [&](auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, command::SendTo>) {
                send_direct(c);
            } else if constexpr (std::is_same_v<T, command::Dial>) {
                const bool known = std::any_of(manual_.begin(), manual_.end(),
                                               [&](const ManualDial& m) { return m.endpoint == c.endpoint; });
                if (!known) {
                    ManualDial dial_entry;
                    dial_entry.endpoint = c.endpoint;
                    manual_.push_back(std::move(dial_entry));
                }
                for (auto& m : manual_) {
                    if (m.endpoint == c.endpoint) {
                        m.given_up = false;
                        if (!m.probing && !m.peer) {
                            m.probing = true;
                            start_probe(m.endpoint);
                        }
                    }
                }
            } else if constexpr (std::is_same_v<T, command::DialContact>) {
                dial(TcpEndpoint{c.contact.host, c.contact.direct_port}.str(), c.expected);
            } else if constexpr (std::is_same_v<T, command::Drop>) {
                if (find(c.peer)) remove_peer(c.peer, LeaveReason::timed_out, "dropped by discovery");
            } else if constexpr (std::is_same_v<T, command::Subscribe>) {
                apply_subscriptions(std::move(c.prefixes));
            }
        },
        command);
}

// ---------------------------------------------------------------- sending

void Node::send_control(::zmq::socket_t& socket, wire::Control command, std::string_view body,
                        std::string_view identity) {
    const auto topic = wire::topic_of(command);
    const auto header = wire::encode_header(wire::control_header(self_.id));
    std::array<::zmq::message_t, 4> frames;
    std::size_t n = 0;
    if (!identity.empty()) frames[n++] = ::zmq::message_t(identity.data(), identity.size());
    frames[n++] = ::zmq::message_t(topic.data(), topic.size());
    frames[n++] = ::zmq::message_t(header.data(), header.size());
    frames[n++] = ::zmq::message_t(body.data(), body.size());
    try {
        if (!send_all(socket, std::span(frames.data(), n))) {
            bump(counters_.backpressure);
            log("control message dropped: the link is at its high-water mark");
        }
    } catch (const ::zmq::error_t& e) {
        // ROUTER_MANDATORY: the dialler is gone already.
        log(std::string("control message not delivered: ") + e.what());
    }
}

void Node::publish_now(MessagePtr message) {
    if (auto ok = wire::check_type(message->type()); !ok) {
        log("not published: " + ok.error().reason());
        bump(counters_.send_failed);
        return;
    }
    auto seq_it = fanout_seq_out_.find(message->type());
    if (seq_it == fanout_seq_out_.end()) seq_it = fanout_seq_out_.emplace(message->type(), 0).first;
    const auto header = wire::encode_header(wire::header_of(*message, ++seq_it->second));
    std::array<::zmq::message_t, 3> frames{
        ::zmq::message_t(message->type().data(), message->type().size()),
        ::zmq::message_t(header.data(), header.size()),
        ::zmq::message_t(message->payload_view().data(), message->payload_size()),
    };
    const std::size_t bytes = message->type().size() + header.size() + message->payload_size();
    bump(counters_.messages_sent);
    bump(counters_.published);
    bump(counters_.bytes_sent, bytes);
    if (!fanout_backlog_.empty() || !send_all(*xpub_, frames)) {
        if (fanout_backlog_.empty()) bump(counters_.backpressure);
        fanout_backlog_.push_back(std::move(frames));
    }
}

void Node::flush_fanout() {
    while (!fanout_backlog_.empty()) {
        if (!send_all(*xpub_, fanout_backlog_.front())) return;
        fanout_backlog_.pop_front();
    }
    while (!publishes_.empty() && fanout_backlog_.empty()) {
        publish_now(std::move(publishes_.front()));
        publishes_.pop_front();
    }
}

void Node::send_direct(command::SendTo& request) {
    PeerLink* link = find(request.peer);
    if (!link || !link->joined || !link->dealer) {
        bump(counters_.send_failed);
        if (request.done) {
            request.done(Error(Errc::no_peer, "no connected peer " + request.peer.short_str()));
        }
        return;
    }
    if (auto ok = wire::check_type(request.message->type()); !ok) {
        bump(counters_.send_failed);
        if (request.done) request.done(ok.error());
        return;
    }
    const auto& message = *request.message;
    const auto header = wire::encode_header(wire::header_of(message, ++link->direct_seq_out));
    Outgoing out{
        .frames = {::zmq::message_t(message.type().data(), message.type().size()),
                   ::zmq::message_t(header.data(), header.size()),
                   ::zmq::message_t(message.payload_view().data(), message.payload_size())},
        .bytes = message.type().size() + header.size() + message.payload_size(),
        .done = std::move(request.done),
    };
    link->outbox.push_back(std::move(out));
    flush_outbox(*link);
}

void Node::flush_outbox(PeerLink& link) {
    while (!link.outbox.empty() && link.dealer) {
        auto& out = link.outbox.front();
        if (!send_all(*link.dealer, out.frames)) {
            bump(counters_.backpressure);
            return;  // retried by the timers
        }
        bump(counters_.messages_sent);
        bump(counters_.direct_sent);
        bump(counters_.bytes_sent, out.bytes);
        auto done = std::move(out.done);
        link.outbox.pop_front();
        if (done) done(success());
    }
}

void Node::apply_subscriptions(std::vector<std::string> prefixes) {
    std::sort(prefixes.begin(), prefixes.end());
    prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
    std::vector<std::string> added;
    std::vector<std::string> removed;
    std::set_difference(prefixes.begin(), prefixes.end(), prefixes_.begin(), prefixes_.end(),
                        std::back_inserter(added));
    std::set_difference(prefixes_.begin(), prefixes_.end(), prefixes.begin(), prefixes.end(),
                        std::back_inserter(removed));
    for (auto& [id, link] : peers_) {
        if (!link->sub) continue;
        for (const auto& p : added) link->sub->set(::zmq::sockopt::subscribe, p);
        for (const auto& p : removed) link->sub->set(::zmq::sockopt::unsubscribe, p);
        // Types we no longer receive restart their sequence when wanted again.
        for (auto it = link->fanout_in.begin(); it != link->fanout_in.end();) {
            const bool wanted = std::any_of(prefixes.begin(), prefixes.end(),
                                            [&](const std::string& p) { return it->first.starts_with(p); });
            it = wanted ? std::next(it) : link->fanout_in.erase(it);
        }
    }
    prefixes_ = std::move(prefixes);
}

// ---------------------------------------------------------------- dialling

void Node::start_probe(const std::string& endpoint) {
    try {
        ::zmq::socket_t dealer = make_socket(::zmq::socket_type::dealer);
        dealer.set(::zmq::sockopt::linger, 0);
        dealer.connect(endpoint);
        send_control(dealer, wire::Control::who);
        probes_.push_back(Probe{endpoint, std::move(dealer), SteadyClock::now() + options_.handshake_timeout});
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
    if (hello->node == self_.id) {
        events_.on_peer_refused(endpoint, "that endpoint is this node itself");
        finish(std::nullopt, true);
        return;
    }
    finish(hello->node, false);
    if (!find(hello->node)) dial(endpoint, hello->node);
}

void Node::dial(const std::string& endpoint, const NodeId& expected) {
    if (expected == self_.id) return;
    if (PeerLink* existing = find(expected); existing && existing->dealer) return;  // one link per pair
    PeerLink& link = link_for(expected);
    link.dial_endpoint = endpoint;
    link.dialled_by_us = true;
    ensure_dealer(link, endpoint);
}

void Node::ensure_dealer(PeerLink& link, const std::string& endpoint) {
    if (link.dealer) return;
    try {
        ::zmq::socket_t dealer = make_socket(::zmq::socket_type::dealer);
        dealer.set(::zmq::sockopt::routing_id, self_routing_id_);
        // Told before connecting, so no connection event can be missed.
        const std::string address = "inproc://grav-monitor-" + std::to_string(++monitor_serial_);
        if (zmq_socket_monitor(dealer.handle(), address.c_str(), ZMQ_EVENT_DISCONNECTED) != 0) {
            throw ::zmq::error_t();
        }
        ::zmq::socket_t monitor(context_, ::zmq::socket_type::pair);
        monitor.set(::zmq::sockopt::linger, 0);
        monitor.connect(address);
        dealer.connect(endpoint);
        link.dealer.emplace(std::move(dealer));
        link.monitor.emplace(std::move(monitor));
        if (link.dial_endpoint.empty()) link.dial_endpoint = endpoint;
        send_control(*link.dealer, wire::Control::hello, wire::encode_hello(hello_of_self()));
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

void Node::maybe_send_ready(PeerLink& link) {
    if (link.ready_sent || !link.dealer || !subscribed_here_.contains(link.id)) return;
    send_control(*link.dealer, wire::Control::ready);
    link.ready_sent = true;
    check_joined(link);
}

void Node::check_joined(PeerLink& link) {
    if (link.joined || !link.admitted || !link.welcomed || !link.ready_from_peer || !link.ready_sent) return;
    link.joined = true;
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
    subscribed_here_.erase(id);
    set_live(id, false);
    poll_dirty_ = true;
    for (auto& out : link->outbox) {
        bump(counters_.send_failed);
        if (out.done) out.done(Error(Errc::no_peer, "peer " + id.short_str() + " left before the message went out"));
    }
    for (auto& m : manual_) {
        if (m.peer == id) {
            m.peer.reset();
            m.next_attempt = SteadyClock::now() + (reason == LeaveReason::withdrew ? options_.heartbeat_interval : 0ms);
        }
    }
    if (link->joined) {
        bump(counters_.peers_left);
        if (reason != LeaveReason::withdrew && reason != LeaveReason::local_stop) log("peer " + id.short_str() + " (" + link->info.name + ") left: " + to_string(reason) +
            (detail.empty() ? "" : ", " + detail));
        events_.on_peer_left(id, reason, detail);
    }
    // libzmq's I/O thread sends monitor events with a blocking send: stop
    // the monitor before its reader goes, or that thread hangs for good.
    if (link->dealer && link->monitor) zmq_socket_monitor(link->dealer->handle(), nullptr, 0);
    link->monitor.reset();
    // The other sockets close here; their linger lets a last goodbye out.
}

// ---------------------------------------------------------------- receiving

void Node::on_router() {
    Frames frames;
    for (int n = 0; n < receive_batch && receive(*router_, frames); ++n) {
        if (frames.overflow || frames.count != 4) {
            malformed("direct message of " + std::to_string(frames.count) + (frames.overflow ? "+" : "") +
                      " frames (expected identity + 3)");
            continue;
        }
        const std::string_view identity = frames.text(0);
        const std::string_view topic = frames.text(1);
        auto control = wire::parse_control(topic);
        if (control && !*control) {
            malformed(control->error().reason());
            continue;
        }
        // WHO comes from anonymous probes; everything else names its sender.
        if (control && **control == wire::Control::who) {
            send_control(*router_, wire::Control::iam, wire::encode_hello(hello_of_self()), identity);
            continue;
        }
        auto sender = wire::parse_routing_id(identity);
        if (!sender) {
            malformed("direct message from a connection that is not a grav node");
            continue;
        }
        if (!control) {
            PeerLink* link = find(*sender);
            if (!link || !link->admitted) {
                bump(counters_.unknown_sender);
                log("dropped a direct message from " + sender->short_str() + ", which is no peer");
                continue;
            }
            Frames data;  // the three grav frames without the identity
            data.count = 3;
            for (std::size_t i = 0; i < 3; ++i) data.part[i].move(frames.part[i + 1]);
            on_data(*link, data, true);
            continue;
        }
        switch (**control) {
            case wire::Control::hello: {
                auto hello = wire::decode_hello(frames.bytes(3));
                if (!hello) {
                    malformed(hello.error().reason());
                    continue;
                }
                std::string address;
                try {
                    if (const char* a = frames.part[1].gets("Peer-Address")) address = a;
                } catch (const ::zmq::error_t&) {
                }
                on_hello(identity, *hello, address);
                break;
            }
            case wire::Control::ready:
                if (PeerLink* link = find(*sender); link && link->admitted) {
                    link->ready_from_peer = true;
                    check_joined(*link);
                }
                break;
            case wire::Control::bye:
                if (PeerLink* link = find(*sender)) {
                    link->bye_direct = true;
                    if (link->bye_fanout || !link->sub) {
                        remove_peer(link->id, LeaveReason::withdrew, "said goodbye");
                    } else if (!link->leave_deadline) {
                        link->leave_deadline = SteadyClock::now() + leave_wait;
                    }
                }
                break;
            default:
                malformed("control " + std::string(topic.substr(1)) + " is not for a ROUTER");
                break;
        }
    }
}

void Node::on_hello(std::string_view identity, const wire::Hello& hello, std::string_view peer_address) {
    const std::string address = peer_address.empty() ? "127.0.0.1" : std::string(peer_address);
    std::string who = "node at " + address;
    if (hello.protocol != wire::protocol_version) {
        refuse(identity,
               "unsupported protocol version " + std::to_string(hello.protocol) + " (this node speaks " +
                   std::to_string(wire::protocol_version) + ")",
               who);
        return;
    }
    if (identity != wire::routing_id(hello.node)) {
        malformed("HELLO from " + address + " whose routing id is not its node id");
        return;
    }
    who = hello.node.short_str() + " (" + hello.name + ") at " + address;
    if (hello.node == self_.id) {
        refuse(identity, "it has this node's own node id", who);
        return;
    }
    if (hello.endpoints.size() < 2) {
        refuse(identity, "HELLO lists " + std::to_string(hello.endpoints.size()) +
                             " endpoints, needs ROUTER and XPUB", who);
        return;
    }
    PeerInfo info{
        .id = hello.node,
        .name = hello.name,
        .belongs_to = hello.belongs_to,
        .interests = hello.interests,
        .endpoints = {with_host(hello.endpoints[0], address), with_host(hello.endpoints[1], address)},
        .address = address,
        .last_seen = SteadyClock::now(),
    };
    for (const auto& e : info.endpoints) {
        if (!parse_tcp_endpoint(e)) {
            refuse(identity, "HELLO endpoint '" + e + "' is not tcp://host:port", who);
            return;
        }
    }
    if (!groups_match(self_.belongs_to, hello.belongs_to)) {
        const std::string reason = "group '" + hello.belongs_to + "' does not mesh with this node's group '" +
                                   self_.belongs_to + "'";
        refuse(identity, reason, info.endpoints[0]);
        if (find(hello.node)) remove_peer(hello.node, LeaveReason::refused, reason);
        return;
    }
    if (PeerLink* existing = find(hello.node); existing && existing->admitted) {
        if (!existing->joined) {  // a repeated HELLO during the handshake
            send_control(*router_, wire::Control::welcome, {}, identity);
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
    for (const auto& id : replaced) remove_peer(id, LeaveReason::replaced, "new node " + hello.node.short_str() + " at its endpoint");

    Status admitted = events_.admit(info);
    if (!admitted) {
        refuse(identity, admitted.error().reason(), info.endpoints[0]);
        if (find(hello.node)) remove_peer(hello.node, LeaveReason::refused, admitted.error().reason());
        return;
    }
    PeerLink& link = link_for(hello.node);
    link.info = std::move(info);
    link.admitted = true;
    send_control(*router_, wire::Control::welcome, {}, identity);
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
            if (PeerLink* link = find(*id); link && link->joined && !link->down_since) {
                link->down_since = SteadyClock::now();
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
        auto control = frames.count == 3 && !frames.overflow ? wire::parse_control(frames.text(0)) : std::nullopt;
        if (!control || !*control) {
            malformed("reply from " + id.short_str() + " on the direct link is not a grav control message");
            continue;
        }
        switch (**control) {
            case wire::Control::welcome:
                if (auto header = wire::decode_header(frames.bytes(1)); header && header->origin != id) {
                    // Dialled by contact expecting `id`, found another node there
                    // (it restarted): that node's own HELLO builds its link.
                    log("expected node " + id.short_str() + " at " + current->dial_endpoint + ", found " +
                        header->origin.short_str());
                    remove_peer(id, LeaveReason::replaced, "another node answered at its endpoint");
                    return;
                }
                current->welcomed = true;
                check_joined(*current);
                break;
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

void Node::on_sub(PeerLink& link) {
    Frames frames;
    const NodeId id = link.id;
    for (int n = 0; n < receive_batch; ++n) {
        PeerLink* current = find(id);
        if (!current || !current->sub || !receive(*current->sub, frames)) return;
        if (frames.overflow || frames.count != 3) {
            malformed("fan-out message from " + id.short_str() + " of " + std::to_string(frames.count) +
                      " frames (expected 3)");
            continue;
        }
        auto control = wire::parse_control(frames.text(0));
        if (!control) {
            on_data(*current, frames, false);
            continue;
        }
        if (*control && **control == wire::Control::bye) {
            current->bye_fanout = true;
            if (current->bye_direct) {
                remove_peer(id, LeaveReason::withdrew, "said goodbye");
                return;
            }
            if (!current->leave_deadline) current->leave_deadline = SteadyClock::now() + leave_wait;
            continue;
        }
        // The SYNC subscription may match nothing we publish; other control
        // topics on the fan-out link are not ours to act on.
    }
}

void Node::on_data(PeerLink& link, const Frames& frames, bool direct) {
    if (!link.admitted || link.bye_fanout) {
        bump(counters_.unknown_sender);
        return;
    }
    if (auto ok = wire::check_type(frames.text(0)); !ok) {
        malformed("message from " + link.id.short_str() + ": " + ok.error().reason());
        return;
    }
    auto header = wire::decode_header(frames.bytes(1));
    if (!header) {
        malformed("message from " + link.id.short_str() + ": " + header.error().reason());
        return;
    }
    // Sequence numbers: one stream per type on the fan-out link (a
    // subscriber sees only the types it wants), one for direct messages.
    SequenceTracker* tracker = &link.direct_in;
    if (!direct) {
        const std::string_view type = frames.text(0);
        auto it = link.fanout_in.find(type);
        if (it == link.fanout_in.end()) it = link.fanout_in.emplace(std::string(type), SequenceTracker{}).first;
        tracker = &it->second;
    }
    const auto check = tracker->accept(header->seq);
    if (check.verdict == SequenceCheck::Verdict::duplicate) {
        bump(counters_.duplicates);
        return;
    }
    if (check.verdict == SequenceCheck::Verdict::gap) {
        bump(counters_.gaps);
        bump(counters_.missing, check.missing);
        log(std::to_string(check.missing) + " message(s) of '" + std::string(frames.text(0)) + "' from " +
            link.id.short_str() + " never arrived");
    }
    bump(counters_.messages_received);
    bump(counters_.bytes_received, frames.total_size());
    if (direct) bump(counters_.direct_received);
    events_.on_message(link.id, wire::message_of(frames.text(0), *header, frames.bytes(2)));
}

void Node::on_monitor(PeerLink& link) {
    Frames frames;
    while (link.monitor && receive(*link.monitor, frames)) {
        if (frames.count < 1 || frames.part[0].size() < 2) continue;
        std::uint16_t event = 0;
        std::memcpy(&event, frames.part[0].data(), sizeof event);
        if (event == ZMQ_EVENT_DISCONNECTED && !link.down_since) link.down_since = SteadyClock::now();
    }
}

// ---------------------------------------------------------------- timers

void Node::run_timers(SteadyTime now) {
    std::vector<std::pair<NodeId, std::pair<LeaveReason, std::string>>> gone;
    for (auto& [id, link] : peers_) {
        if (!link->outbox.empty()) flush_outbox(*link);
        if (link->leave_deadline && now >= *link->leave_deadline) {
            gone.push_back({id, {LeaveReason::withdrew, "said goodbye"}});
        } else if (link->down_since && now - *link->down_since >= down_grace) {
            if (link->joined) {
                gone.push_back({id, {LeaveReason::timed_out, "connection lost"}});
            } else if (!link->bye_direct) {
                link->down_since.reset();  // still handshaking: the deadline decides
            }
        } else if (!link->joined && now >= link->handshake_deadline) {
            bump(counters_.handshake_timeouts);
            const std::string reason = "handshake did not complete within " +
                                       std::to_string(options_.handshake_timeout.count()) + " ms";
            log((link->dial_endpoint.empty() ? id.short_str() : link->dial_endpoint) + ": " + reason);
            if (link->dialled_by_us) events_.on_peer_refused(link->dial_endpoint, reason);
            gone.push_back({id, {LeaveReason::timed_out, reason}});
        }
    }
    for (auto& [id, why] : gone) remove_peer(id, why.first, why.second);

    for (std::size_t i = 0; i < probes_.size();) {
        if (now < probes_[i].deadline) {
            ++i;
            continue;
        }
        const std::string endpoint = probes_[i].endpoint;
        probes_.erase(probes_.begin() + static_cast<std::ptrdiff_t>(i));
        poll_dirty_ = true;
        log("no answer from " + endpoint + " within " + std::to_string(options_.handshake_timeout.count()) +
            " ms; retrying");
        for (auto& m : manual_) {
            if (m.endpoint == endpoint) {
                m.probing = false;
                m.next_attempt = now;
            }
        }
    }
    for (auto& m : manual_) {
        if (!m.peer && !m.probing && !m.given_up && now >= m.next_attempt) {
            m.probing = true;
            start_probe(m.endpoint);
        }
    }
}

// ---------------------------------------------------------------- stop

void Node::shutdown() {
    const auto deadline = SteadyClock::now() + options_.linger;
    // What was published before stop() still goes out, then the goodbyes.
    take_work(true);
    while ((!fanout_backlog_.empty() || !publishes_.empty()) && SteadyClock::now() < deadline) {
        flush_fanout();
        if (!fanout_backlog_.empty()) {
            ::zmq::poll(poll_items_.data(), 1, 1ms);
        }
    }
    if (!fanout_backlog_.empty() || !publishes_.empty()) {
        log(std::to_string(fanout_backlog_.size() + publishes_.size()) +
            " published message(s) could not leave before the linger time");
    }
    const auto bye_topic = wire::topic_of(wire::Control::bye);
    const auto header = wire::encode_header(wire::control_header(self_.id));
    std::array<::zmq::message_t, 3> bye{::zmq::message_t(bye_topic.data(), bye_topic.size()),
                                        ::zmq::message_t(header.data(), header.size()), ::zmq::message_t()};
    while (!send_all(*xpub_, bye) && SteadyClock::now() < deadline) {
        ::zmq::poll(poll_items_.data(), 1, 1ms);
    }
    std::vector<NodeId> ids;
    for (auto& [id, link] : peers_) {
        flush_outbox(*link);
        if (link->dealer && link->admitted) send_control(*link->dealer, wire::Control::bye);
        ids.push_back(id);
    }
    for (const auto& id : ids) remove_peer(id, LeaveReason::local_stop, "this node stopped");
    probes_.clear();
    // Refuse what arrived meanwhile.
    for (auto& command : commands_) {
        if (auto* send = std::get_if<command::SendTo>(&command); send && send->done) {
            send->done(Error(Errc::closed, "the transport stopped"));
        }
    }
    commands_.clear();
    bump(counters_.dropped_after_stop, publishes_.size());
    publishes_.clear();
    fanout_backlog_.clear();
    router_.reset();
    xpub_.reset();
}

}  // namespace grav::zmq
