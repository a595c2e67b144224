#pragma once
// An in-process network for tests: a real second implementation of
// grav::Transport (not a mock), so the hub can be proved without sockets.
//
// Several InprocTransports join one InprocNetwork. Each transport has its own
// thread and queue, exactly like a networked transport: every call on the
// Transport interface only queues work, and every TransportEvents callback
// comes from the transport's own thread. Transports talk by posting envelopes
// into each other's queues, so the handshake, subscriptions and messages are
// asynchronous and ordered per link (FIFO), as over one TCP connection.
//
// Handshake (dialler D, listener L):
//   D -> L  hello   {D's PeerInfo, D's subscriptions, expected id}
//   L admits D (TransportEvents::admit); refusal: L -> D refuse, D reports
//           on_peer_refused and nobody joins.
//   L -> D  welcome {L's PeerInfo, L's subscriptions}   (L now publishes to D)
//   D admits L; on success D reports on_peer_joined(L) and sends
//   D -> L  ready   -> L reports on_peer_joined(D).
// Because each side knows the other's subscriptions before it reports the
// peer joined, nothing published after on_peer_joined is lost.

#include <grav/transport.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace grav::test {

namespace detail {
struct NetworkState;
class Mailbox;
}  // namespace detail

class InprocTransport;

// The "wire" that in-process transports share. May be destroyed before the
// transports made from it (they keep what they need alive).
class InprocNetwork {
public:
    InprocNetwork();
    ~InprocNetwork();
    InprocNetwork(const InprocNetwork&) = delete;
    InprocNetwork& operator=(const InprocNetwork&) = delete;

    // A transport that joins this network when started.
    [[nodiscard]] std::unique_ptr<InprocTransport> make_transport() const;

    // Fault injection: point-to-point sends from `from` to `to` fail with
    // Errc::transport_failed until the link is healed (publish is unaffected).
    void break_link(const NodeId& from, const NodeId& to);
    void heal_link(const NodeId& from, const NodeId& to);

private:
    std::shared_ptr<detail::NetworkState> state_;
};

class InprocTransport final : public Transport {
public:
    explicit InprocTransport(std::shared_ptr<detail::NetworkState> network);
    ~InprocTransport() override;  // stop()

    Status start(const LocalNode& self, TransportEvents& events) override;
    void stop() override;

    void publish(MessagePtr message) override;
    void send_to(const NodeId& peer, MessagePtr message, SendDone done) override;

    // "inproc-net://<n>"
    Status connect(std::string_view endpoint) override;
    // host "inproc", direct_port = n (fanout_port too).
    Status connect(const Contact& contact, const NodeId& expected) override;
    void drop(const NodeId& peer) override;

    void subscribe(std::vector<std::string> prefixes) override;

    [[nodiscard]] std::string endpoint() const override;
    [[nodiscard]] Contact contact() const override;
    [[nodiscard]] bool alive(const NodeId& peer) const override;
    // inproc.published (copies handed to peers), inproc.filtered (copies a
    // peer's subscriptions kept off the wire), inproc.sent_direct,
    // inproc.send_failed, inproc.received, inproc.refused (our dials refused),
    // inproc.rejected (dials we refused), inproc.dropped (arrived from a
    // non-peer or after stop), inproc.peers (ready peers now).
    [[nodiscard]] std::map<std::string, std::uint64_t> stats() const override;

    // For tests: what this transport knows a peer subscribed to (nullopt when
    // it is no peer), so a test can wait for subscriptions to propagate.
    [[nodiscard]] std::optional<std::vector<std::string>> peer_subscriptions(const NodeId& peer) const;
    // For tests: does this transport currently pass `type` to `peer`?
    [[nodiscard]] bool peer_wants(const NodeId& peer, std::string_view type) const;

private:
    struct Peer {
        PeerInfo info;
        std::vector<std::string> subscriptions;
        bool ready = false;  // on_peer_joined reported
    };
    struct Hello {
        PeerInfo info;
        std::vector<std::string> subscriptions;
        std::optional<NodeId> expected;
        std::string dialled;  // the endpoint the dialler used, for its refusal report
    };

    void run();
    void dial(std::string endpoint, int number, std::optional<NodeId> expected);
    void on_hello(const Hello& hello);
    void on_refused_remote(const Hello& hello);
    void on_welcome(const Hello& welcome);
    void on_ready(const NodeId& from);
    void on_refused(const std::string& endpoint, const std::string& reason);
    void on_rejected_by_dialler(const NodeId& from);
    void on_subscriptions(const NodeId& from, std::vector<std::string> prefixes);
    void on_bye(const NodeId& from);
    void on_envelope(const NodeId& from, const MessagePtr& message);
    void do_publish(const MessagePtr& message);
    void do_send_to(const NodeId& peer, const MessagePtr& message, const SendDone& done);
    void do_subscribe(std::vector<std::string> prefixes);
    void do_stop();

    [[nodiscard]] Hello hello_for(std::optional<NodeId> expected, std::string dialled) const;
    void join_peer(const NodeId& id);
    void publish_live_view();
    static bool wanted(const std::vector<std::string>& subscriptions, std::string_view type);

    std::shared_ptr<detail::NetworkState> network_;
    std::shared_ptr<detail::Mailbox> mailbox_;
    std::mutex life_mutex_;  // start/stop
    std::thread thread_;
    std::atomic<int> number_{0};
    bool started_ = false;
    bool stopped_ = false;

    // Owned by the transport's thread once started.
    LocalNode self_;
    TransportEvents* events_ = nullptr;
    std::map<NodeId, Peer> peers_;
    std::vector<std::string> subscriptions_;
    bool quit_ = false;

    // A copy for calls from other threads (alive, peer_subscriptions).
    mutable std::mutex view_mutex_;
    std::map<NodeId, Peer> view_;

    std::atomic<std::uint64_t> published_{0}, filtered_{0}, sent_direct_{0}, send_failed_{0},
        received_{0}, refused_{0}, rejected_{0}, dropped_{0};
};

}  // namespace grav::test
