#pragma once
// The bus's shared state. Bus is the user's owning handle; pods keep the core
// alive (so a pod may outlive its Bus and just get Errc::closed).

#include "bus_counters.hpp"
#include "envelope.hpp"
#include "peer_events.hpp"
#include "pod_state.hpp"
#include "reply_slot.hpp"
#include "stats_exchange.hpp"
#include "stats_ticker.hpp"
#include "timer_queue.hpp"
#include "worker_pool.hpp"

#include <grav/bus.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace grav::detail {

class Hub;
class BridgeLink;

class BusCore : public std::enable_shared_from_this<BusCore> {
public:
    explicit BusCore(BusOptions&& options);
    ~BusCore();
    BusCore(const BusCore&) = delete;
    BusCore& operator=(const BusCore&) = delete;

    // Second phase of construction: starts transport and discovery.
    Status start();

    [[nodiscard]] const NodeId& node_id() const noexcept { return node_id_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const BusOptions& options() const noexcept { return options_; }
    [[nodiscard]] bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
    [[nodiscard]] TimerQueue& timers() noexcept { return timers_; }
    [[nodiscard]] Hub* hub() noexcept { return hub_.get(); }
    [[nodiscard]] BridgeLink* bridge() noexcept { return bridge_.get(); }

    std::shared_ptr<PodState> create_pod(bool replay);
    // A pod's handler or waiter changed; `activate`: its first one.
    void pod_changed(PodState& pod, const SubscriptionChange& change, bool activate);
    // A pod disconnected.
    void pod_gone(PodState& pod, const SubscriptionChange& change);

    // Receipts: registered before dispatch, so no reply can come too early.
    std::shared_ptr<ReplySlot> register_reply(const MessageId& id, const std::shared_ptr<PodState>& owner);
    void unregister_reply(const MessageId& id, const ReplySlot* slot);
    // A receipt's waiter runs the transport's loop meanwhile (Transport::
    // serve_until): false at once without a transport, or on a worker.
    bool serve_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline);
    void interrupt_serve();

    // A message from a local pod to everyone: local pods + peers.
    Status publish(PodState& sender, const MessagePtr& message);
    // A reply from a local pod: local pods, and point-to-point to the
    // request's node when that is another node.
    Status reply(PodState& sender, const MessagePtr& reply, const NodeId& request_origin);
    // From the hub: a message that came from a peer. `may_block`: wait for
    // mailbox room (OverflowPolicy::block); else it goes in past capacity.
    void deliver_from_peer(const MessagePtr& message, bool may_block = true);
    // A "grav.sys." message from a peer (system_types.hpp).
    void on_system_message(const MessagePtr& message);
    // False while a pod's full mailbox would make a peer's message wait.
    [[nodiscard]] bool room_for_peers() const;
    // From the bridge: published on another site (to local pods and the mesh) ...
    void deliver_remote(const MessagePtr& message);
    // ... or meant for this node alone (a reply, a tunnel request).
    void deliver_direct(const MessagePtr& message);
    // The same from a thread that must never wait (a bridge's engine
    // callback): false, with nothing done, when delivering now could wait
    // for room (a full mailbox, a full transport queue) or would run a
    // receipt's on_reply callback on this thread; the caller then hands the
    // message to a thread that may wait.
    bool try_deliver_remote(const MessagePtr& message);
    bool try_deliver_direct(const MessagePtr& message);
    // To one node offering `capability`: in the mesh first, else on another site.
    void tunnel(const std::string& capability, const MessagePtr& message, const std::shared_ptr<ReplySlot>& slot);
    void on_peer(std::function<void(const PeerEvent&)> callback);

    void withdraw();
    void stop();

    [[nodiscard]] BusStats stats() const;
    // Bus::node_stats (stats_exchange.hpp).
    std::vector<Result<NodeReport>> node_stats(const std::vector<NodeId>& nodes,
                                               std::chrono::milliseconds timeout);

private:
    void fan_out(const MessagePtr& message, std::uint64_t sender, bool may_block);
    // fan_out; with `callbacks` false, a reply for a receipt with an
    // on_reply callback is not delivered at all (false).
    bool fan_out(const MessagePtr& message, std::uint64_t sender, bool may_block, bool callbacks);
    std::shared_ptr<ReplySlot> find_reply(const MessageId& id);
    std::shared_ptr<const std::vector<std::shared_ptr<PodState>>> pods_snapshot() const;
    void apply_subscription(const SubscriptionChange& change);
    void push_subscriptions_locked();
    void drain(std::chrono::milliseconds budget);
    [[nodiscard]] std::vector<std::shared_ptr<PodState>> all_pods() const;

    BusOptions options_;
    const NodeId node_id_;
    const std::string name_;
    const std::shared_ptr<BusCounters> counters_;
    const std::shared_ptr<WorkerPool> pool_;
    TimerQueue timers_;
    PeerEvents peer_events_;  // before hub_ and bridge_, which report through it
    std::unique_ptr<Hub> hub_;
    std::unique_ptr<BridgeLink> bridge_;  // after hub_: it goes first, while the hub still serves it
    std::unique_ptr<StatsTicker> stats_ticker_;  // with BusOptions::on_stats
    std::atomic<bool> closed_{false};
    StatsRequests stats_requests_;  // node_stats() in flight
    std::mutex stop_mutex_;

    // Registry and history share one lock: a message is either in the
    // history a replay pod receives or fanned out to it, never both.
    mutable std::mutex registry_mutex_;
    std::unordered_map<std::uint64_t, std::shared_ptr<PodState>> pods_;
    mutable std::shared_ptr<const std::vector<std::shared_ptr<PodState>>> snapshot_;  // rebuilt lazily
    std::uint64_t next_pod_id_ = 1;
    std::uint64_t seq_ = 0;
    std::vector<Envelope> history_;  // ring of the last replay_capacity messages
    std::size_t history_head_ = 0;

    // Pending receipts, sharded to keep concurrent senders apart.
    // Every send registers a receipt and almost every receipt is dropped at
    // once: nodes come from a per-shard pool, not from malloc.
    struct ReplyShard {
        std::mutex mutex;
        std::pmr::unsynchronized_pool_resource pool;
        std::pmr::unordered_map<MessageId, std::pair<const ReplySlot*, std::weak_ptr<ReplySlot>>> slots{
            &pool};
    };
    static constexpr std::size_t kReplyShards = 16;
    std::array<ReplyShard, kReplyShards> reply_shards_;
    ReplyShard& shard_for(const MessageId& id) { return reply_shards_[id.uuid().bytes()[0] % kReplyShards]; }

    // Subscription prefixes wanted by local pods, counted.
    std::mutex subscriptions_mutex_;
    std::map<std::string, std::size_t> subscriptions_;
};

}  // namespace grav::detail
