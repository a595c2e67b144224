#pragma once
// The NATS bridge (grav/nats.hpp): one nats.c connection, the subscriptions
// this site needs while its node is the active bridge, and one thread that
// hands what comes in to the core.
//
//   nats.c delivery threads ──on_msg: decode──┬─ nothing queued, room: StreamCheck, BridgeEvents (never wait)
//        (never block)                        └─ push ─▶ InboundQueue ──▶ bridge thread
//                                                         (bounded)         StreamCheck, BridgeEvents
//   any thread ──publish/send_to/tunnel: encode, count──▶ natsConnection_PublishMsg
//
// Durable mode (nats_durable.cpp) replaces the `msg` subscriptions with the
// site's JetStream consumer, read by a thread of its own:
//
//   durable thread ──ensure stream, bind consumer, fetch──▶ DurableCheck, BridgeEvents, ack
//
// Invariants: nats.c's callbacks never wait (a full queue drops and counts);
// a subject's Grav-Seq is given and published under one lock, so the counts
// leave in order; every subscription has finished its callbacks before the
// bridge is destroyed (their completion is counted down in stop()).

#include "durable_check.hpp"
#include "inbound_queue.hpp"
#include "nats_codec.hpp"
#include "nats_handles.hpp"
#include "stream_check.hpp"

#include <grav/nats.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace grav::nats::detail {

// The longest a JetStream API call (stream, consumer) waits for its answer;
// only the durable thread makes them.
inline constexpr std::chrono::milliseconds kJetStreamWait{2000};

class NatsBridge final : public Bridge {
public:
    NatsBridge(Options options, std::vector<TypePattern> types);
    ~NatsBridge() override;

    Status start(const LocalNode& self, BridgeEvents& events) override;
    void stop() override;
    [[nodiscard]] const std::vector<TypePattern>& types() const override { return types_; }
    [[nodiscard]] Status check(const Message& message) const override;
    void update_site(const BridgeSite& site) override;
    void publish(MessagePtr message) override;
    void send_to(const NodeId& node, MessagePtr message, SendDone done) override;
    void tunnel(const std::string& capability, MessagePtr message, SendDone done) override;
    [[nodiscard]] std::map<std::string, std::uint64_t> stats() const override;
    [[nodiscard]] std::vector<MetricInfo> describe_metrics() const override;

private:
    // nats_connect.cpp
    Result<OptionsPtr> make_options();
    static void on_connected(natsConnection* nc, void* closure);
    static void on_disconnected(natsConnection* nc, void* closure);
    static void on_reconnected(natsConnection* nc, void* closure);
    static void on_closed(natsConnection* nc, void* closure);
    static void on_error(natsConnection* nc, natsSubscription* sub, natsStatus err, void* closure);
    void learn_max_payload();

    // nats_inbound.cpp
    static void on_msg(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
    static void on_sub_complete(void* closure);
    // nats.c's thread: gives `item` to the core at once when nothing waits
    // ahead of it and the core need not wait; false: queue it.
    bool deliver_now(Inbound& item);
    void run();
    // False (only without `may_block`) when the core would have had to wait.
    bool handle(Inbound& item, bool may_block);
    void fail_tunnel(const std::string& message_id);

    // nats_durable.cpp
    Status check_durable_options(const Subjects& subjects);
    void run_durable();
    void wait_durable(std::chrono::milliseconds timeout);
    void wake_durable();
    bool ensure_stream();
    bool bind_consumer();
    bool create_consumer(std::uint64_t start_seq);
    void take(natsMsg* msg);
    void on_pub_ack(natsMsg* msg);
    void durable_trouble(const std::string& what);

    // nats_bridge.cpp
    void reconcile_locked();
    bool subscribe_locked(const std::string& subject, const char* queue);
    // publish: a `msg` subject, counted (Grav-Seq), checked by the core
    // already; direct: a node or tunnel subject, typed (Grav-Type), checked here.
    enum class Route { publish, direct };
    Status send(const std::string& subject, const char* reply, const Message& message, Route route);
    // check() for a message of either route (`typed`: with its Grav-Type).
    [[nodiscard]] Status check(const Message& message, bool typed) const;

    const Options options_;
    const std::vector<TypePattern> types_;
    LocalNode self_;
    BridgeEvents* events_ = nullptr;
    std::optional<Subjects> subjects_;
    ConnectionPtr conn_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::int64_t> max_payload_{1024 * 1024};  // the server default until it tells its own

    std::mutex subs_mutex_;  // the wanted site and the subscriptions made for it
    BridgeSite site_{};
    std::map<std::string, SubscriptionPtr> subs_;
    std::mutex complete_mutex_;
    std::condition_variable complete_cv_;
    std::size_t live_subs_ = 0;  // subscriptions whose callbacks may still run
    bool closed_ = false;        // the connection's closed callback came

    std::mutex out_mutex_;  // Grav-Seq given and published in one step
    std::unordered_map<std::string, std::uint64_t> seq_;

    std::mutex tunnels_mutex_;  // tunnel requests that may still hear "no responders"
    struct PendingTunnel {
        std::string capability;
        SendDone done;
    };
    std::unordered_map<std::string, PendingTunnel> tunnels_;  // by message id
    std::deque<std::string> tunnel_order_;

    // Durable mode; the thread's own state is touched by it alone.
    std::string stream_name_;
    JsCtxPtr js_;
    SubscriptionPtr pull_;
    DurableCheck durable_check_;
    std::string durable_trouble_;    // the last problem logged, so that a retry logs it once
    std::uint64_t resume_from_ = 0;  // the consumer this thread deleted to recover: where its successor starts
    std::atomic<bool> site_active_{true};
    std::atomic<bool> stream_ready_{false};
    std::mutex durable_mutex_;
    std::condition_variable durable_cv_;
    bool durable_woken_ = false;
    std::thread durable_thread_;

    InboundQueue queue_;
    // Held by whoever gives a message from NATS to the core (the bridge
    // thread, or a callback that got it without waiting); guards streams_.
    std::mutex deliver_mutex_;
    StreamCheck streams_;
    std::thread thread_;

    std::atomic<std::uint64_t> published_{0}, publish_failed_{0}, received_{0}, queue_overflow_{0},
        unsequenced_overflow_{0}, duplicates_{0}, decode_failed_{0}, disconnects_{0}, reconnects_{0},
        slow_consumer_{0}, lost_{0}, no_responders_{0}, unstored_{0}, delivered_inline_{0};
    std::atomic<bool> connected_{false};
    std::atomic<bool> ever_connected_{false};
};

}  // namespace grav::nats::detail
