// grav::zmq::transport(): the thread-safe face of the transport. Sockets
// belong to the Node's thread; this class queues work for it, or has the
// Node do a send at once while its thread sleeps (node_inline.cpp), and
// reads what it publishes for other threads.
#include "endpoint.hpp"
#include "node.hpp"
#include "wire/batch.hpp"

#include <grav/zmq.hpp>

#include <algorithm>
#include <mutex>
#include <thread>

namespace grav::zmq {
namespace {

class ZmqTransport final : public grav::Transport {
public:
    explicit ZmqTransport(Options options) : options_(std::move(options)) {}
    ~ZmqTransport() override { stop(); }

    Status start(const LocalNode& self, TransportEvents& events) override {
        std::lock_guard lock(lifecycle_);
        if (node_) return Error(Errc::invalid_argument, "the transport is already started");
        auto node = std::make_unique<Node>(options_, self, events);
        if (auto bound = node->bind(); !bound) return bound;
        node_ = std::move(node);
        thread_ = std::thread([node = node_.get()] { node->run(); });
        return success();
    }

    void stop() override {
        std::lock_guard lock(lifecycle_);
        if (!node_ || stopped_) return;
        stopped_ = true;
        node_->inbox().request_stop();
        if (thread_.joinable()) thread_.join();
        node_->inbox().close();
    }

    void publish(MessagePtr message) override {
        if (!message) {  // nothing to send: a caller's bug, counted rather than a crash
            if (node_) bump(node_->counters().send_failed);
            return;
        }
        // No peer known: nothing to encode, queue or wake for (Node::alone()).
        if (running() && node_->alone()) {
            bump(node_->counters().published_alone);
            return;
        }
        // Encoded before these return, so `message` is freed on this thread
        // when the caller lets go of it (fanout_queue.hpp says why).
        if (running() && !node_->on_own_thread() && node_->try_publish_inline(*message)) return;
        if (!running() || !node_->inbox().publish(*message)) {
            if (node_) bump(node_->counters().dropped_after_stop);
        }
    }

    bool try_publish(const MessagePtr& message) override {
        if (!message || !running() || node_->alone()) {
            publish(message);  // counted or skipped: never a wait
            return true;
        }
        if (!node_->on_own_thread() && node_->try_publish_inline(*message)) return true;
        switch (node_->inbox().try_publish(*message)) {
            case Inbox::Offer::queued: return true;
            case Inbox::Offer::full: return false;
            case Inbox::Offer::closed: bump(node_->counters().dropped_after_stop); return true;
        }
        return true;
    }

    void send_to(const NodeId& peer, MessagePtr message, SendDone done) override {
        if (!message) {
            if (node_) bump(node_->counters().send_failed);
            if (done) done(Error(Errc::invalid_argument, "send_to: no message (null MessagePtr)"));
            return;
        }
        if (running() && node_->on_own_thread()) {  // e.g. a reply from inside on_message
            node_->send_now(command::SendTo{peer, std::move(message), std::move(done)});
            return;
        }
        command::SendTo request{peer, std::move(message), std::move(done)};
        if (!running()) {
            if (request.done) request.done(not_running());
            return;
        }
        if (node_->try_send_inline(request)) return;
        Command rejected;
        if (!node_->inbox().push(std::move(request), &rejected)) {
            if (auto* send = std::get_if<command::SendTo>(&rejected); send && send->done) {
                send->done(not_running());
            }
        }
    }

    Status connect(std::string_view endpoint) override {
        // Secure mode: "tcp://host:port#KEY" carries the node's public key.
        const KeyedEndpoint keyed = split_key_suffix(endpoint);
        auto parsed = parse_tcp_endpoint(keyed.endpoint);
        if (!parsed) return parsed.error();
        if (parsed->wildcard() || parsed->port == 0) {
            return Error(Errc::invalid_argument,
                         "cannot dial '" + std::string(endpoint) + "': give a host and a port");
        }
        if (endpoint.find('#') == std::string_view::npos) return queue(command::Dial{parsed->str()});
        if (!options_.security) {
            return Error(
                Errc::invalid_argument,
                "'" + std::string(endpoint) + "' names a public key, but this node is not in secure mode");
        }
        if (auto key = security::PublicKey::parse(keyed.public_key); !key) return key.error();
        return queue(command::Dial{parsed->str() + "#" + keyed.public_key});
    }

    Status connect(const Contact& contact, const NodeId& expected) override {
        if (contact.host.empty() || contact.direct_port == 0) {
            return Error(Errc::invalid_argument, "contact has no host or no direct port");
        }
        return queue(command::DialContact{contact, expected});
    }

    void drop(const NodeId& peer) override { (void)queue(command::Drop{peer}); }

    void subscribe(std::vector<std::string> prefixes) override {
        (void)queue(command::Subscribe{std::move(prefixes)});
    }

    [[nodiscard]] std::string endpoint() const override { return node_ ? node_->endpoint() : std::string(); }
    [[nodiscard]] Contact contact() const override { return node_ ? node_->contact() : Contact{}; }
    [[nodiscard]] bool alive(const NodeId& peer) const override { return node_ && node_->alive(peer); }
    [[nodiscard]] std::vector<PeerTraffic> traffic() const override {
        return node_ ? node_->traffic() : std::vector<PeerTraffic>{};
    }

    [[nodiscard]] std::map<std::string, std::uint64_t> stats() const override {
        if (!node_) return Counters{}.snapshot();
        auto snapshot = node_->counters().snapshot();
        snapshot["zmq.publish_blocked"] = node_->inbox().blocked_publishes();
        return snapshot;
    }

    [[nodiscard]] std::vector<MetricInfo> describe_metrics() const override { return describe_counters(); }

    bool serve_until(const std::function<bool()>& done,
                     std::chrono::steady_clock::time_point deadline) override {
        return running() && node_->serve_until(done, deadline);
    }
    void interrupt_serve() override {
        if (running()) node_->interrupt_serve();
    }

private:
    static Error not_running() { return Error(Errc::closed, "the transport is not running"); }
    // node_ is set once by start() before any other call may race with it
    // (the hub starts the transport before using it).
    [[nodiscard]] bool running() const { return node_ != nullptr; }

    Status queue(Command command) {
        if (!running() || !node_->inbox().push(std::move(command))) {
            return not_running();
        }
        return success();
    }

    Options options_;
    std::mutex lifecycle_;
    std::unique_ptr<Node> node_;
    std::thread thread_;
    bool stopped_ = false;
};

}  // namespace

std::size_t max_payload_size(const Options& options) noexcept {
    // A message travelling alone: the batch prefix and one record's fixed
    // part; and, in secure mode, CURVE's envelope around the frame (command
    // name, nonce, MAC: 33 bytes), which libzmq counts against the limit too.
    constexpr std::size_t curve_envelope = 64;
    constexpr std::size_t framing = wire::batch_prefix_size + wire::record_fixed_size + curve_envelope;
    if (options.max_message_size <= framing) return 0;
    return std::min(options.max_message_size - framing, wire::max_record_payload);
}

std::unique_ptr<grav::Transport> transport(Options options) {
    return std::make_unique<ZmqTransport>(std::move(options));
}

}  // namespace grav::zmq
