// Node: construction, binding and the event loop (timers: node_timers.cpp).
#include "node.hpp"

#include "endpoint.hpp"
#include "frames.hpp"
#include "node_tuning.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <utility>

#include <pthread.h>

namespace grav::zmq {

using namespace tuning;
using std::chrono::milliseconds;

namespace {

int ms(milliseconds d) { return static_cast<int>(d.count()); }

}  // namespace

Node::Node(Options options, LocalNode self, TransportEvents& events)
    : options_(std::move(options)),
      self_(std::move(self)),
      events_(events),
      self_routing_id_(wire::routing_id(self_.id)),
      inbox_(std::max<std::size_t>(options_.max_queued, 1)),
      context_(1),
      window_(options_.resend_window_messages, options_.resend_window_bytes) {
    inbox_.on_wake([this] { rouse_parked_owner(); });
}

Node::~Node() = default;

::zmq::socket_t Node::make_socket(::zmq::socket_type type) {
    ::zmq::socket_t socket(context_, type);
    poller_.note_new(socket.handle());
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
    // Liveness comes from the DEALER/ROUTER link, which carries little. A
    // SUB's connection stalls whenever its pod does: the transport stops
    // reading it (hold_subscriptions), its receive pipe fills, and libzmq
    // stops reading the connection, so the SUB sees neither PONGs nor PINGs
    // for as long as the stall lasts.
    //
    // The SUB sends no ZMTP PINGs of its own. libzmq 4.3.4 aborts on a
    // PING timer that fires after a stopped connection failed: with input
    // stopped (pipe full), a hang-up or reset (the publisher left, and the
    // SUB's last PING met its closed socket) makes stream_engine_base_t's
    // in_event only mark the engine _io_error, to be torn down when input
    // restarts; the next heartbeat timer calls out_event, which asserts
    // !_io_error ("stream_engine_base.cpp:331"). Without a PING timer
    // nothing writes on such an engine: a subscription goes through
    // restart_output, which checks _io_error. So instead the transport
    // thread, which never blocks on a full mailbox, re-sends the SYNC
    // subscription on every held SUB once per heartbeat interval
    // (keep_held_subscriptions): that frame keeps the publisher's XPUB from
    // dropping a stalled subscriber (libzmq resets a connection's timeout
    // on any frame it reads), and a dead or frozen one sends none and is
    // still dropped within the normal timeout. The XPUB asks for no TTL in
    // its PINGs, which a stalled SUB could not honour. Kept: the SUB's
    // long ZMTP timeout, although without PINGs of its own it never arms.
    //
    // The ROUTER sends no PINGs either (issue 20: heartbeats were most of an
    // idle node's CPU in a big mesh, and each link pair carried two PING
    // streams where one does). Its connections are the peers' DEALERs,
    // which PING it every interval with a TTL of heartbeat_timeout: libzmq
    // drops such a connection when nothing arrives within the TTL, whether
    // or not the ROUTER pings itself, so a dead dialler is still cut off in
    // time; and the ROUTER answers every PING with a PONG. What a node
    // learns of a peer's death comes from its own DEALER (its monitor).
    const bool pings = type != ::zmq::socket_type::sub && type != ::zmq::socket_type::router;
    socket.set(::zmq::sockopt::heartbeat_ivl, pings ? ms(interval) : 0);
    socket.set(::zmq::sockopt::heartbeat_timeout,
               ms(type == ::zmq::socket_type::sub ? subscriber_patience : zmtp_timeout));
    socket.set(::zmq::sockopt::heartbeat_ttl,
               type == ::zmq::socket_type::xpub ? 0 : ms(options_.heartbeat_timeout));
    // Every socket re-connects, the SUB too: with re-connection off, libzmq
    // 4.3.4 tears a SUB's pipe down while the node may be between the frames
    // of a message and aborts ("Assertion failed: !_more (fq.cpp:112)", seen
    // when a peer is resumed after SIGSTOP).
    socket.set(::zmq::sockopt::reconnect_ivl, 100);
    socket.set(::zmq::sockopt::reconnect_ivl_max, 1000);
    return socket;
}

Status Node::bind() {
    auto parsed = parse_tcp_endpoint(options_.bind);
    if (!parsed) return parsed.error();
    if (parsed->port == 65535) {
        return Error(Errc::invalid_argument,
                     "cannot bind '" + options_.bind +
                         "': the fan-out (XPUB) socket takes port+1, and 65535 is the "
                         "last port");
    }
    // Which socket a bind error is about: the XPUB's port is not the one the user gave.
    std::string binding = "'" + options_.bind + "'";
    try {
        start_security();
        router_.emplace(make_socket(::zmq::socket_type::router));
        router_->set(::zmq::sockopt::router_mandatory, 1);
        router_->set(::zmq::sockopt::router_handover, 1);
        secure_server(*router_, router_monitor_, "router");
        router_->bind(options_.bind);
        auto bound = parse_tcp_endpoint(router_->get(::zmq::sockopt::last_endpoint));
        if (!bound) return bound.error();

        xpub_.emplace(make_socket(::zmq::socket_type::xpub));
        xpub_->set(::zmq::sockopt::xpub_nodrop, 1);   // backpressure, never silent drops
        xpub_->set(::zmq::sockopt::xpub_verbose, 1);  // every SYNC subscription reaches us
        secure_server(*xpub_, xpub_monitor_, "xpub");
        TcpEndpoint xpub_bind = *parsed;
        xpub_bind.port = parsed->port == 0 ? 0 : static_cast<std::uint16_t>(parsed->port + 1);
        const std::string xpub_endpoint =
            xpub_bind.host == "*" ? "tcp://*:" + std::to_string(xpub_bind.port) : xpub_bind.str();
        if (parsed->port != 0) {
            binding =
                "the fan-out (XPUB) socket on '" + xpub_endpoint + "' (port+1 of '" + options_.bind + "')";
        }
        xpub_->bind(xpub_endpoint);
        auto xbound = parse_tcp_endpoint(xpub_->get(::zmq::sockopt::last_endpoint));
        if (!xbound) return xbound.error();

        // Locally a wildcard is dialled at 127.0.0.1; peers are told "*" and
        // use the address our HELLO came from.
        const bool wildcard = parsed->wildcard();
        const std::string local_host = wildcard ? "127.0.0.1" : bound->host;
        endpoint_ = TcpEndpoint{local_host, bound->port}.str();
        contact_ = Contact{local_host, bound->port, xbound->port, contact_.public_key};
        const std::string told_host = wildcard ? "*" : bound->host;
        advertised_ = {TcpEndpoint{told_host, bound->port}.str(), TcpEndpoint{told_host, xbound->port}.str()};
    } catch (const ::zmq::error_t& e) {
        stop_server_monitors();
        router_.reset();
        xpub_.reset();
        zap_.reset();
        return Error(Errc::transport_failed, "cannot bind " + binding + ": " + e.what());
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

void Node::log_throttled(std::string_view key, const std::string& line) {
    if (const auto held = refusal_lines_.admit(key)) log(refusal_lines_.annotate(line, *held));
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

PeerLink* Node::joined_link(const NodeId& id) {
    PeerLink* link = find(id);
    return link && link->joined && link->dealer ? link : nullptr;
}

PeerLink& Node::link_for(const NodeId& id) {
    auto& slot = peers_[id];
    if (!slot) {
        slot = std::make_unique<PeerLink>();
        slot->id = id;
        alone_.store(false, std::memory_order_release);  // at once: publishes from now on are kept
        slot->handshake_deadline = SteadyClock::now() + options_.handshake_timeout;
        arm_timers(slot->handshake_deadline);
        publish_traffic(*slot);
    }
    return *slot;
}

// ---------------------------------------------------------------- loop

void Node::run() {
    owner_id_ = std::this_thread::get_id();
    thread_id_ = owner_id_;
    // Named like libzmq's own threads, so that top and perf tell it apart.
    pthread_setname_np(pthread_self(), "grav.zmq");
    SocketPoller::ActiveOnThisThread poller_scope(poller_);
    std::unique_lock loop(loop_mutex_);
    loop_running_ = true;
    while (!inbox_.stop_requested()) {
        if (lead_wanted_.load(std::memory_order_acquire)) {
            park_while_led(loop);
            continue;
        }
        turn(loop, SteadyTime::max());
    }
    loop_running_ = false;
    loop_ended_ = true;
    owner_parked_changed_.notify_all();  // a would-be leader waits for a park that will not come
    shutdown();
}

void Node::turn(std::unique_lock<std::mutex>& loop, SteadyTime until) {
    const bool held_back = !fanout_backlog_.empty();
    auto now = SteadyClock::now();
    // Rounded up: rounded down, the last millisecond before every timer
    // turn became a busy loop of zero-timeout polls (5 % of a core on an
    // idle node).
    // Held back or holding the SUBs: look again in a millisecond.
    auto timeout = held_back || subs_held_
                       ? 1ms
                       : std::max(milliseconds(0), std::chrono::ceil<milliseconds>(next_timers_ - now));
    timeout = std::min<milliseconds>(timeout, timer_idle_period);
    if (until != SteadyTime::max()) {
        timeout = std::min(timeout, std::max(milliseconds(0), std::chrono::ceil<milliseconds>(until - now)));
    }
    try {
        if (poll_dirty_) rebuild_poll_items();
        poller_.wait(timeout, &loop);
    } catch (const ::zmq::error_t& e) {
        log(std::string("poll failed: ") + e.what());
        return;
    }
    // Handlers never change the poll set, only mark it dirty. Once it is
    // dirty, a later item may name a closed socket: stop and poll again
    // (the rebuilt set asks every socket that had input, or was used, or is
    // new: nothing is missed).
    //
    // Each turn starts one item further on. A turn can end early (the set
    // went dirty, or the events' room filled and the SUBs were held), and
    // with a fixed order the items after that point waited for the next
    // turn, where the same first items came first again: a peer flooding
    // a slow node refilled the room on every release and starved the SUBs
    // of every peer polled after it (LanChaos.AFloodFromOneNodeDoesNotStarveTheOthers,
    // 2 messages in 2.5 s from each of them).
    const std::size_t items = poller_.size();
    const std::size_t first = items == 0 ? 0 : next_first_item_++ % items;
    for (std::size_t k = 0; k < items && !poll_dirty_; ++k) {
        const std::size_t i = (first + k) % items;
        if (!poller_.has_input(i)) continue;
        // Whatever the handler does, ask this socket again next turn: it
        // may leave input behind (batch limits) or not read at all.
        poller_.touch_item(i);
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
                case Source::Kind::probe_monitor: on_probe_monitor(source.probe); break;
                case Source::Kind::zap: zap_->serve(); break;
                case Source::Kind::server_monitor:
                    on_server_monitor(source.probe == 0 ? *router_monitor_ : *xpub_monitor_);
                    break;
            }
        } catch (const std::exception& e) {
            // A bug or a ZeroMQ error on one socket must not stop the node.
            log(std::string("error while handling input: ") + e.what());
        }
    }
    if (!fanout_backlog_.empty() || !batches_.empty()) flush_fanout();
    // Whenever publishes wait in the Inbox, not only when the turn began
    // held back: a take while held back (max 0) consumed their wake-up,
    // and `held_back` was read before the poll, during which a sender's
    // inline publish may have filled the XPUB. Asked only of `held_back`,
    // a backlog that cleared within the turn left the queue full, its
    // publishers blocked and this thread asleep.
    if (!batches_.empty() || inbox_.has_publishes()) take_work(false);
    inbox_.recycle(spent_frames_);
    now = SteadyClock::now();
    if (subs_held_) keep_held_subscriptions(now);
    if (now >= next_timers_) {
        run_timers(now);
        next_timers_ = next_deadline(SteadyClock::now());
    }
    update_gauges();
}

void Node::rebuild_poll_items() {
    poller_.clear();
    sources_.clear();
    auto add = [&](void* socket, Source source) {
        poller_.add_socket(socket);
        sources_.push_back(std::move(source));
    };
    poller_.add_fd(inbox_.wake_fd());
    sources_.push_back(Source{Source::Kind::wake, {}});
    add(router_->handle(), Source{Source::Kind::router, {}});
    add(xpub_->handle(), Source{Source::Kind::xpub, {}});
    for (auto& [id, link] : peers_) {
        if (link->dealer) add(link->dealer->handle(), Source{Source::Kind::dealer, id});
        if (link->sub && !subs_held_) add(link->sub->handle(), Source{Source::Kind::sub, id});
        if (link->monitor) add(link->monitor->handle(), Source{Source::Kind::monitor, id});
    }
    for (std::size_t i = 0; i < probes_.size(); ++i) {
        add(probes_[i].dealer.handle(), Source{Source::Kind::probe, {}, i});
        if (probes_[i].monitor) add(probes_[i].monitor->handle(), Source{Source::Kind::probe_monitor, {}, i});
    }
    if (zap_) add(zap_->socket().handle(), Source{Source::Kind::zap, {}});
    if (router_monitor_) add(router_monitor_->handle(), Source{Source::Kind::server_monitor, {}, 0});
    if (xpub_monitor_) add(xpub_monitor_->handle(), Source{Source::Kind::server_monitor, {}, 1});
    poll_dirty_ = false;
}

void Node::take_work(bool stopping) {
    // While the XPUB holds messages back, take no more publishes: the
    // inbox fills and publish() blocks its callers (backpressure).
    inbox_.take(commands_, batches_, stopping || fanout_backlog_.empty());
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
                dial(TcpEndpoint{c.contact.host, c.contact.direct_port}.str(), c.expected,
                     c.contact.public_key);
            } else if constexpr (std::is_same_v<T, command::Drop>) {
                if (PeerLink* link = find(c.peer); link && link->joined && !link->down_since) {
                    // A leaving beacon overtakes the peer's BYE: let the
                    // goodbye, and the tail it announces, decide (soon).
                    if (!link->leave_deadline) {
                        link->leave_deadline = SteadyClock::now() + leave_wait;
                        arm_timers(*link->leave_deadline);
                    }
                } else if (link) {
                    remove_peer(c.peer, LeaveReason::timed_out, "dropped by discovery");
                }
            } else if constexpr (std::is_same_v<T, command::Subscribe>) {
                apply_subscriptions(std::move(c.prefixes));
            }
        },
        command);
}

}  // namespace grav::zmq
