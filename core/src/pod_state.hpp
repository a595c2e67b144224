#pragma once
// Everything the bus keeps for one pod: its mailbox, its handler, its
// failure list and its counters. Scheduled on the worker pool as a Task;
// at most one worker runs it at a time, which is what keeps delivery in
// order and never concurrent.

#include "bus_counters.hpp"
#include "envelope.hpp"
#include "failure_replay.hpp"
#include "mailbox.hpp"
#include "type_filter.hpp"
#include "worker_pool.hpp"

#include <grav/bus.hpp>
#include <grav/handler.hpp>
#include <grav/pod.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace grav::detail {

class BusCore;
class ReplySlot;

struct PodSettings {
    std::size_t mailbox_capacity;
    OverflowPolicy overflow;
    std::size_t failure_high_water;
    bool replay;
};

// A pod contributes at most one type prefix to the node's subscriptions
// ("" = every type); this is how it changed.
struct SubscriptionChange {
    std::optional<std::string> removed;
    std::optional<std::string> added;
    [[nodiscard]] bool changed() const { return removed != added; }
};

class PodState : public Task, public std::enable_shared_from_this<PodState> {
public:
    PodState(std::uint64_t id, std::weak_ptr<BusCore> core, std::shared_ptr<WorkerPool> pool,
             std::shared_ptr<BusCounters> counters, const PodSettings& settings);
    ~PodState() override;
    PodState(const PodState&) = delete;
    PodState& operator=(const PodState&) = delete;

    [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
    [[nodiscard]] bool wants_replay() const noexcept { return settings_.replay; }

    // From dispatch. `may_block`: under OverflowPolicy::block, wait for room
    // if this thread may (room_wait.hpp: never on a worker, never from the
    // transport's loop while a thread wants it for a wait).
    void enqueue(Envelope&& envelope, bool may_block);
    // From the bus, under its registry lock: start accepting messages, with
    // `history` first (replay pods) and live messages from after `cutoff`.
    void activate(std::span<const Envelope> history, std::uint64_t cutoff);
    [[nodiscard]] bool active() const;

    // Returns how the pod's subscription changed, and whether this was its
    // first handler (the bus must then activate it); nothing when the pod is
    // disconnected.
    std::optional<std::pair<SubscriptionChange, bool>> set_handler(TypeFilter filter, Handler handler);

    Status wait(const Handler& handler, std::optional<std::chrono::steady_clock::time_point> deadline);

    // Idempotent. `wait_idle`: return only once no handler of this pod runs
    // (skipped when called from this pod's own handler).
    void disconnect(DisconnectReason reason, bool wait_idle);
    [[nodiscard]] bool connected() const;
    [[nodiscard]] std::optional<DisconnectReason> disconnect_reason() const;
    void on_disconnect(std::function<void(DisconnectReason)> callback);
    // Keeps a receipt with an on_reply callback alive while the pod lives.
    void pin(std::shared_ptr<ReplySlot> slot);

    void count_sent() noexcept;
    [[nodiscard]] PodStats stats() const;
    [[nodiscard]] std::size_t queue_depth() const noexcept { return depth_.load(std::memory_order_relaxed); }
    [[nodiscard]] bool busy() const;  // has mail or runs a handler
    // Connected, and a message would wait for room (or overflow) now.
    [[nodiscard]] bool full() const;
    // Senders waiting for room re-check: the bus is stopping, or a thread
    // wants the transport's loop (room_wait.hpp).
    void release_senders();
    // The prefix this pod currently contributes to the node's subscriptions.
    [[nodiscard]] std::optional<std::string> subscription() const;

    void run() override;  // Task: drain one batch

private:
    struct HandlerEntry {
        TypeFilter filter;
        Handler fn;
    };
    // A wait_on / wait_until in progress: the worker hands it messages
    // until its handler accepts one; the waiting thread sleeps on `done`.
    struct Waiter {
        explicit Waiter(Handler h) : fn(std::move(h)) {}
        Handler fn;
        std::mutex mutex;
        std::condition_variable done;
        std::optional<Status> result;
        void complete(Status s);
    };

    bool accepts_locked(const Message& m) const;
    [[nodiscard]] bool full_locked() const noexcept;
    std::optional<std::string> prefix_locked() const;
    SubscriptionChange resubscribe_locked();
    struct HandlerCache {
        std::uint64_t generation = ~std::uint64_t{0};
        std::shared_ptr<const HandlerEntry> handler;
        std::shared_ptr<Waiter> waiter;
    };
    void deliver(const Envelope& e, HandlerCache& cache, std::uint64_t& delivered, std::uint64_t& failed,
                 std::uint64_t& redelivered);
    void finish_disconnect(std::unique_lock<std::mutex>& lock, DisconnectReason reason);
    void count_dropped(std::uint64_t n) noexcept;
    // depth_ = waiting + being handled; 0 once disconnected. Published under
    // the lock; within a worker's batch it may still count, for a moment,
    // messages already handled.
    void publish_depth_locked() noexcept;
    [[nodiscard]] bool on_own_thread() const;

    const std::uint64_t id_;
    const std::weak_ptr<BusCore> core_;
    const std::shared_ptr<WorkerPool> pool_;
    const std::shared_ptr<BusCounters> counters_;
    const PodSettings settings_;

    mutable std::mutex mutex_;
    std::condition_variable room_;  // senders waiting for mailbox room
    std::condition_variable idle_;  // disconnect() waiting for the handler to return
    Mailbox box_;
    std::shared_ptr<const HandlerEntry> handler_;
    std::shared_ptr<Waiter> waiter_;
    std::atomic<std::uint64_t> generation_{0};  // bumped when handler or waiter change
    std::uint64_t cutoff_ = 0;                  // live messages at or below this seq came as history
    std::atomic<std::size_t> room_waiters_{0};  // changed under mutex_, read by the worker without it
    // Messages the worker took from box_ and has not finished, the one it
    // handles included: waiting = box_ + taken_ - 1 while it runs. Stored
    // under mutex_, decremented by the worker without it (pod_turn.cpp).
    std::atomic<std::size_t> taken_{0};
    bool accepting_ = false;
    // Written under mutex_ only; read under it, or without it (connected(),
    // a worker between two messages), where a stale true only means that a
    // message taken before the disconnect is still handled.
    std::atomic<bool> connected_{true};
    bool scheduled_ = false;
    bool running_ = false;
    std::thread::id running_thread_;
    std::optional<DisconnectReason> reason_;
    std::function<void(DisconnectReason)> on_disconnect_;
    std::vector<std::shared_ptr<ReplySlot>> pinned_;
    std::optional<std::string> contributed_;  // current subscription prefix

    // Touched only by the worker running this pod.
    FailureReplay failures_;

    std::atomic<std::uint64_t> sent_{0};
    std::atomic<std::uint64_t> delivered_{0};
    std::atomic<std::uint64_t> failed_count_{0};
    std::atomic<std::uint64_t> redelivered_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> depth_{0};
};

}  // namespace grav::detail
