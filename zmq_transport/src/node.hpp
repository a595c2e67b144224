#pragma once
// The transport's actor: one thread owns the context's every socket (ROUTER,
// XPUB, per peer a DEALER + SUB + monitor PAIR, dial probes) and runs the
// protocol of docs/PROTOCOL.md. Other threads talk to it through the Inbox,
// the counters and the small mutex-guarded views below; while the thread
// sleeps, a sender may borrow its sockets under the loop lock to send without
// waking it (node_inline.cpp); and a thread that waits for a reply may run
// the loop in its place meanwhile (node_lead.cpp).

#include "counters.hpp"
#include "inbox.hpp"
#include "peer_link.hpp"
#include "send_window.hpp"
#include "socket_poller.hpp"
#include "wire/batch.hpp"
#include "wire/resend_wire.hpp"
#include "wire/wire.hpp"
#include "zap_handler.hpp"

#include <grav/log_throttle.hpp>
#include <grav/zmq.hpp>

#include <zmq.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace grav::zmq {

struct Frames;

class Node {
public:
    Node(Options options, LocalNode self, TransportEvents& events);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // Caller's thread, before run(): binds ROUTER and XPUB.
    Status bind();
    // The transport thread.
    void run();

    Inbox& inbox() noexcept { return inbox_; }
    Counters& counters() noexcept { return counters_; }
    [[nodiscard]] const std::string& endpoint() const noexcept { return endpoint_; }
    [[nodiscard]] const Contact& contact() const noexcept { return contact_; }
    [[nodiscard]] bool alive(const NodeId& peer) const;
    // Any thread: per-peer traffic and health, one entry per link.
    [[nodiscard]] std::vector<PeerTraffic> traffic() const;

    // True on the transport thread (inside a TransportEvents callback):
    // then work is done at once instead of queued, saving a wake-up.
    [[nodiscard]] bool on_own_thread() const noexcept {
        return std::this_thread::get_id() == thread_id_.load();
    }
    void send_now(command::SendTo request) { send_direct(request); }

    // Any other thread (node_inline.cpp): does the work at once, on the
    // calling thread, when the transport thread sleeps and nothing is queued
    // ahead of it; otherwise false, with the argument untouched, and the
    // caller queues it through the Inbox.
    bool try_send_inline(command::SendTo& request);
    bool try_publish_inline(const Message& message);

    // Any thread: this node knows no peer at all, joined, handshaking or
    // retained for its return. A publish then reaches no one, neither now
    // (no SUB) nor later (a RESEND asks only for what a peer missed of a
    // stream it saw; a new peer starts from what it sees first), so the
    // transport skips it (zmq.published_alone). Cleared as soon as a link
    // is made, set again at the end of the loop's turn that drops the last.
    [[nodiscard]] bool alone() const noexcept { return alone_.load(std::memory_order_acquire); }

    // Any other thread about to block until `done()` (node_lead.cpp): runs
    // the loop itself meanwhile, while the transport thread stays parked,
    // so that a reply is read on the thread that waits for it. False at
    // once when another thread leads already, on the transport's own
    // thread, or when the loop is not running; else whether done() held.
    bool serve_until(const std::function<bool()>& done, SteadyTime deadline);
    // Whoever makes a leader's done() true from another thread.
    void interrupt_serve() { inbox_.wake(); }

private:
    // A connect(endpoint) whose node id we learn by asking (WHO -> IAM)
    // before dialling for real, so that each peer gets exactly one DEALER.
    struct Probe {
        std::string endpoint;  // as given, with its "#key" suffix if any
        ::zmq::socket_t dealer;
        SteadyTime deadline;
        // Secure mode: the DEALER's handshake failures (a refusal is all a
        // refused node learns). Declared after `dealer`; the destructor
        // stops monitoring before either closes (see remove_peer).
        std::optional<::zmq::socket_t> monitor;

        Probe(std::string e, ::zmq::socket_t d, SteadyTime t, std::optional<::zmq::socket_t> m)
            : endpoint(std::move(e)), dealer(std::move(d)), deadline(t), monitor(std::move(m)) {}
        Probe(Probe&&) = default;
        Probe& operator=(Probe&&) = default;
        ~Probe() {
            if (monitor && dealer.handle() != nullptr) zmq_socket_monitor(dealer.handle(), nullptr, 0);
        }
    };
    // An endpoint given by hand: re-dialled while no peer answers there.
    struct ManualDial {
        std::string endpoint;
        std::optional<NodeId> peer;
        SteadyTime next_attempt{};
        bool probing = false;
        bool given_up = false;  // refused: do not insist
    };
    // What the index of a poll item stands for.
    struct Source {
        enum class Kind : std::uint8_t {
            wake,
            router,
            xpub,
            dealer,
            sub,
            monitor,
            probe,
            probe_monitor,
            zap,
            server_monitor
        } kind;
        NodeId peer;
        std::size_t probe = 0;
    };

    // Loop parts.
    // One turn: wait for input (until `until` at the latest), handle it,
    // send what is queued, run due timers. Holds `loop` but in poll(2).
    void turn(std::unique_lock<std::mutex>& loop, SteadyTime until);
    // The transport thread's side of serve_until: asleep while led.
    void park_while_led(std::unique_lock<std::mutex>& loop);
    [[nodiscard]] bool leader_satisfied() const { return leader_done_ && (*leader_done_)(); }
    // The Inbox's wake-up listener: a parked transport thread must look.
    void rouse_parked_owner();
    void rebuild_poll_items();
    void take_work(bool stopping);
    void handle(Command& command);
    void on_router();
    void on_xpub();
    void on_dealer(PeerLink& link);
    void on_sub(PeerLink& link);
    // Backpressure without blocking (node_receive.cpp): while a pod's
    // mailbox is full the SUBs are not read (nor polled), and each is kept
    // alive at its publisher by a subscription frame per heartbeat interval.
    void hold_subscriptions();
    void keep_held_subscriptions(SteadyTime now);
    void on_monitor(PeerLink& link);
    void on_probe(std::size_t index);
    void on_probe_monitor(std::size_t index);
    // A PAIR that receives `socket`'s monitor `events`; set up before it connects.
    ::zmq::socket_t monitor_socket(::zmq::socket_t& socket, int events);
    // The handshake failures a secure client watches for (none when plain).
    [[nodiscard]] int handshake_failure_events() const noexcept;
    // One monitor event from `monitor`: false when none is waiting.
    bool read_monitor_event(::zmq::socket_t& monitor, std::uint16_t& event, std::uint32_t& value);
    // Secure mode: a handshake this node started failed: counted and said.
    void client_handshake_failed(const std::string& peer, const std::string& key, std::uint16_t event,
                                 std::uint32_t value);
    void on_server_monitor(::zmq::socket_t& monitor);
    void run_timers(SteadyTime now);
    // Round trips (node_traffic.cpp): PING every joined peer that answers.
    void send_pings(SteadyTime now);
    // One PING, at once: at the join, so that the round trip of a fresh
    // link is not the handshake's (which includes connecting).
    void send_ping(PeerLink& link, SteadyTime now);
    void on_pong(PeerLink& link, std::span<const std::byte> body);
    void on_welcome_body(PeerLink& link, std::span<const std::byte> body);
    // A new link's counters become visible to traffic(); a dropped one's go.
    void publish_traffic(const PeerLink& link);
    void withdraw_traffic(const NodeId& id);
    void update_gauges() noexcept;
    // The earliest deadline of all the state the timers watch.
    [[nodiscard]] SteadyTime next_deadline(SteadyTime now) const;
    // Whoever sets a deadline arms the timers for it.
    void arm_timers(SteadyTime at) noexcept {
        if (at < next_timers_) next_timers_ = at;
    }
    void flush_fanout();
    // A publish batch's data frame as libzmq sends it: small ones copied
    // (their buffer goes back to the Inbox for reuse), large ones as they are.
    ::zmq::message_t frame_message(std::vector<std::byte>&& frame);
    void flush_outbox(PeerLink& link);
    // Stop without losing the tail (node_stop.cpp, docs/PROTOCOL.md
    // "Leaving"): BYE with our tails to every joined peer, the fan-out
    // flushed, then each peer's GOT awaited within stop_flush_timeout; what
    // a peer did not take is counted, logged and reported per peer.
    void shutdown();
    void wait_for_wake(std::chrono::milliseconds timeout);
    // Serves the ROUTER and the XPUB (GOT, RESEND, SYNC) for up to `timeout`.
    void serve_while_stopping(std::chrono::milliseconds timeout);
    [[nodiscard]] wire::Announcement tails_at_stop(const PeerLink& link) const;
    void report_unsent();
    // The receiving side: a departing peer's BYE tails, and our GOT for it.
    void on_bye_tails(PeerLink& link, std::span<const std::byte> body);
    [[nodiscard]] static bool tail_pending(const PeerLink& link);
    void send_got(PeerLink& link);
    void on_got(PeerLink& link, std::span<const std::byte> body);

    // Protocol.
    void on_hello(std::string_view identity, const wire::Hello& hello, std::string_view peer_address,
                  const MessageId& incarnation, std::string_view member_key);
    void refuse(std::string_view identity, const std::string& reason, const std::string& endpoint);
    void dial(const std::string& endpoint, const NodeId& expected, const std::string& public_key = {});
    void start_probe(const std::string& endpoint);
    void ensure_dealer(PeerLink& link, const std::string& endpoint);
    void ensure_sub(PeerLink& link, const std::string& endpoint);
    void maybe_send_ready(PeerLink& link);
    void check_joined(PeerLink& link);
    void remove_peer(const NodeId& id, LeaveReason reason, const std::string& detail);
    void mark_down(PeerLink& link);
    void publish_batch();
    void send_direct(command::SendTo& request);
    // After a send on another thread: wakes the transport thread if that
    // send may have taken the signal of input waiting on a socket.
    void wake_if_input_hidden();
    void apply_subscriptions(std::vector<std::string> prefixes);
    void send_control(::zmq::socket_t& socket, wire::Control command, std::string_view body = {},
                      std::string_view identity = {}, const MessageId& header_id = {});
    // A data message: [type][data frame] (batch.hpp); `wire_bytes` = both frames.
    void on_data(PeerLink& link, std::string_view type, std::span<const std::byte> frame,
                 std::size_t wire_bytes, bool direct);

    // No loss across a broken link (node_resend.cpp).
    struct RetainedPeer {
        MessageId incarnation;
        StreamIn direct_in;
        std::unordered_map<std::string, StreamIn, StringHash, std::equal_to<>> fanout_in;
        std::uint64_t direct_seq_out = 0;
        SteadyTime until;
    };
    StreamIn* stream_in(PeerLink& link, wire::StreamKind kind, std::string_view type, bool create);
    void accept(PeerLink& link, wire::StreamKind kind, std::string_view type, StreamIn& stream,
                std::uint64_t seq, MessagePtr message, bool resent);
    void release(const NodeId& from, wire::StreamKind kind, StreamIn& stream);
    void give_up(const NodeId& from, PeerLink* link, wire::StreamKind kind, std::string_view type,
                 StreamIn& stream);
    void deliver(const NodeId& from, wire::StreamKind kind, MessagePtr message);
    void request_resend(PeerLink& link, wire::StreamKind kind, std::string_view type, StreamIn& stream,
                        std::uint64_t from, std::uint64_t to);
    // Every missing range in (stream.last, to] that is not held.
    void request_holes(PeerLink& link, wire::StreamKind kind, std::string_view type, StreamIn& stream,
                       std::uint64_t to);
    void on_resend_request(PeerLink& link, std::span<const std::byte> body);
    void on_resent(PeerLink& link, std::span<const std::byte> header, std::span<const std::byte> body);
    void on_announcement(PeerLink& link, std::span<const std::byte> body);
    std::string announcement_for(const PeerLink& link) const;
    void flush_resends(PeerLink& link);
    void check_gaps(SteadyTime now);
    void retain(PeerLink& link, LeaveReason reason);
    void restore(PeerLink& link);
    void settle(const NodeId& from, StreamIn& direct_in,
                std::unordered_map<std::string, StreamIn, StringHash, std::equal_to<>>& fanout_in);
    const std::string& window_key(wire::StreamKind kind, std::string_view type_or_peer);

    ::zmq::socket_t make_socket(::zmq::socket_type type);
    // Secure mode (node_security.cpp). No-ops when options_.security is null.
    void start_security();
    void secure_server(::zmq::socket_t& socket, std::optional<::zmq::socket_t>& monitor, const char* name);
    // Makes `socket` a CURVE client of the member `public_key`; false (and
    // logged) when that key is no member.
    bool secure_client(::zmq::socket_t& socket, const std::string& public_key, const std::string& endpoint);
    // The key to dial a peer with: the cluster key, or the one it was given.
    [[nodiscard]] std::string dial_key(const std::string& given) const;
    // False (and counted, logged) when a connection's "User-Id" is not the
    // key `link` is bound to; true marks the link seen (PeerTraffic::last_seen).
    bool from_bound_key(const PeerLink& link, ::zmq::message_t& frame);
    // Before the monitored sockets or their readers close (see remove_peer).
    void stop_server_monitors();
    [[nodiscard]] bool secure() const noexcept { return options_.security != nullptr; }
    PeerLink* find(const NodeId& id);
    // The peer's link if direct messages can go to it now (joined, DEALER up).
    PeerLink* joined_link(const NodeId& id);
    PeerLink& link_for(const NodeId& id);
    wire::Hello hello_of_self() const;
    void set_live(const NodeId& id, bool live);
    void malformed(const std::string& what);
    void log(const std::string& line);
    // log(), at most once per `key` (a peer, a source host) per 10 s: for
    // refusals that repeat on every reconnection (LogThrottle).
    void log_throttled(std::string_view key, const std::string& line);

    Options options_;
    LocalNode self_;
    TransportEvents& events_;
    std::string self_routing_id_;

    Inbox inbox_;
    Counters counters_;
    std::string endpoint_;
    Contact contact_;
    std::vector<std::string> advertised_;  // [ROUTER, XPUB] as told in HELLO

    // Whoever runs the loop now: the transport thread, or a leader.
    std::atomic<std::thread::id> thread_id_{};
    std::thread::id owner_id_;  // the transport thread
    mutable std::mutex live_mutex_;
    std::unordered_set<NodeId> live_;
    // traffic(): every link's counters (the links themselves are the loop's).
    mutable std::mutex traffic_mutex_;
    std::unordered_map<NodeId, std::shared_ptr<PeerCounters>> traffic_;

    // Held by the loop's runner (the transport thread, or a thread in
    // serve_until) except while it sleeps in poll(2); whoever holds it owns
    // everything below (node_inline.cpp). Senders only ever try_lock it, so
    // they never wait on the loop; only a thread about to block anyway, in
    // serve_until, waits for it.
    std::mutex loop_mutex_;
    bool loop_running_ = false;  // run() is between start and shutdown
    bool loop_ended_ = false;    // run() is at shutdown or past it
    // serve_until (node_lead.cpp). A thread wants to lead, or leads: set
    // by it, cleared when it gives the loop back.
    std::atomic<bool> lead_wanted_{false};
    // The transport thread is parked, out of the loop (under loop_mutex_).
    bool owner_parked_ = false;
    std::condition_variable owner_parked_changed_;
    std::atomic<std::uint64_t> lead_claims_{0};           // leads taken, ever
    const std::function<bool()>* leader_done_ = nullptr;  // the leader's done(), while it leads
    // Where the parked transport thread dozes, apart from loop_mutex_ so
    // that its checks never contend with a leader's.
    std::mutex park_mutex_;
    std::condition_variable park_cv_;
    std::atomic<bool> owner_dozing_{false};
    std::atomic<bool> park_signal_{false};  // the Inbox was woken meanwhile
    // When the last publish was asked for, by any thread (burst_gap).
    std::atomic<SteadyTime::rep> last_publish_{0};

    // The loop's owner only from here on.
    ::zmq::context_t context_;
    // Secure mode: bound before the ROUTER and XPUB, closed after them.
    std::optional<ZapHandler> zap_;
    std::optional<::zmq::socket_t> router_;
    std::optional<::zmq::socket_t> xpub_;
    // Secure mode: handshake failures on the ROUTER and XPUB (PAIR sockets).
    std::optional<::zmq::socket_t> router_monitor_;
    std::optional<::zmq::socket_t> xpub_monitor_;
    std::unordered_map<NodeId, std::unique_ptr<PeerLink>> peers_;
    std::atomic<bool> alone_{true};               // alone()
    std::unordered_set<NodeId> subscribed_here_;  // peers whose SUB proved itself at our XPUB
    std::vector<Probe> probes_;
    std::vector<ManualDial> manual_;
    std::vector<std::string> prefixes_{""};

    std::deque<Command> commands_;
    // Publishes, encoded by their publishers (fanout_queue.hpp), to send.
    std::deque<FanoutQueue::Batch> batches_;
    std::vector<std::vector<std::byte>> spent_frames_;  // sent this turn: back to the Inbox for reuse
    std::vector<wire::Record> sent_records_;            // publish_batch's scratch, reused
    std::deque<std::array<::zmq::message_t, 2>> fanout_backlog_;  // [type][data frame]
    // The last number sent of each type (announced to peers after a break).
    std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>> fanout_seq_out_;
    // What this node sent lately, for RESEND; its own incarnation (HELLO
    // header id); the stream state of peers whose link broke.
    SendWindow window_;
    MessageId incarnation_ = MessageId::random();
    std::unordered_map<NodeId, RetainedPeer> retained_;
    std::string window_key_;  // scratch: no allocation per message

    std::vector<wire::Record> records_;  // on_data's scratch, reused

    // stop(): set once shutdown begins. Per joined peer told our tails:
    // what we sent it (the BYE's announcement) and its GOT, once come.
    struct StopFlush {
        std::string name;
        wire::Announcement sent;
        std::optional<wire::Announcement> got;
        std::optional<SteadyTime> gone_at;  // its link went away meanwhile
    };
    bool stopping_ = false;
    std::unordered_map<NodeId, StopFlush> stop_flush_;

    SocketPoller poller_;
    std::vector<Source> sources_;  // what each of poller_'s items is
    bool poll_dirty_ = true;
    std::size_t next_first_item_ = 0;  // turn(): where the next turn starts handling items
    bool subs_held_ = false;           // hold_subscriptions
    SteadyTime next_keepalive_{};
    std::size_t monitor_serial_ = 0;
    SteadyTime next_timers_{};
    SteadyTime next_ping_{};  // send_pings

    SteadyTime log_window_{};
    int log_lines_ = 0;
    LogThrottle refusal_lines_;
};

}  // namespace grav::zmq
