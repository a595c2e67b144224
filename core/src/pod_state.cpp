#include "pod_state.hpp"

#include "bus_core.hpp"
#include "reply_slot.hpp"
#include "room_wait.hpp"

#include <array>
#include <exception>

namespace grav::detail {
namespace {

constexpr std::size_t kBatch = 64;  // messages per turn: amortises scheduling, keeps turns short

Status invoke(const Handler& fn, const Message& m) noexcept {
    try {
        return fn(m);
    } catch (const std::exception& e) {
        return Error(Errc::handler_failed, std::string("handler threw: ") + e.what());
    } catch (...) {
        return Error(Errc::handler_failed, "handler threw a non-standard exception");
    }
}

}  // namespace

struct PodState::Waiter {
    explicit Waiter(Handler h) : fn(std::move(h)) {}
    Handler fn;
    std::mutex mutex;
    std::condition_variable done;
    std::optional<Status> result;

    void complete(Status s) {
        {
            std::lock_guard lock(mutex);
            if (result) return;
            result = std::move(s);
        }
        done.notify_all();
    }
};

PodState::PodState(std::uint64_t id, std::weak_ptr<BusCore> core, std::shared_ptr<WorkerPool> pool,
                   std::shared_ptr<BusCounters> counters, const PodSettings& settings)
    : id_(id),
      core_(std::move(core)),
      pool_(std::move(pool)),
      counters_(std::move(counters)),
      settings_(settings),
      box_(settings.mailbox_capacity) {}

PodState::~PodState() {
    // Failed messages never handled again are drops too.
    if (!failed_.empty()) count_dropped(failed_.size());
}

// The capacity bounds what waits; the one message being handled is not waiting.
bool PodState::full_locked() const noexcept { return box_.size() >= box_.capacity(); }

bool PodState::full() const {
    std::lock_guard lock(mutex_);
    return connected_ && full_locked();
}

void PodState::count_sent() noexcept {
    sent_.fetch_add(1, std::memory_order_relaxed);
    counters_->sent.fetch_add(1, std::memory_order_relaxed);
}

void PodState::count_dropped(std::uint64_t n) noexcept {
    if (n == 0) return;
    dropped_.fetch_add(n, std::memory_order_relaxed);
    counters_->dropped.fetch_add(n, std::memory_order_relaxed);
}

bool PodState::on_own_thread() const { return running_ && running_thread_ == std::this_thread::get_id(); }

bool PodState::accepts_locked(const Message& m) const {
    if (!connected_ || !accepting_) return false;
    if (waiter_) return true;
    return handler_ && handler_->filter.matches(m.type());
}

void PodState::enqueue(Envelope&& envelope, bool may_block) {
    std::unique_lock lock(mutex_);
    if (envelope.seq != 0 && envelope.seq <= cutoff_) return;  // already delivered as history
    if (!accepts_locked(*envelope.message)) return;
    if (full_locked()) {
        switch (settings_.overflow) {
            case OverflowPolicy::block:
                if (may_block && may_wait_for_room(counters_->loop)) {
                    ++room_waiters_;
                    {
                        WaitingForRoom waiting(counters_->loop);
                        room_.wait(lock, [&] {
                            return !full_locked() || !connected_ ||
                                   counters_->stopping.load(std::memory_order_relaxed) ||
                                   !may_wait_for_room(counters_->loop);
                        });
                    }
                    --room_waiters_;
                    if (!connected_) {
                        count_dropped(1);
                        return;
                    }
                }
                // From a handler (or while stopping) the message goes in past
                // capacity: blocking a worker could deadlock the pool. So
                // too from the transport's loop while a thread wants it for
                // a wait (room_wait.hpp).
                break;
            case OverflowPolicy::drop_oldest:
                box_.pop();
                count_dropped(1);
                break;
            case OverflowPolicy::disconnect:
                count_dropped(1);
                finish_disconnect(lock, DisconnectReason::overflow);
                return;
        }
    }
    box_.push(std::move(envelope));
    box_size_hint_.store(box_.size(), std::memory_order_relaxed);
    depth_.store(box_.size() + in_flight_, std::memory_order_relaxed);
    const bool schedule = !scheduled_;
    scheduled_ = true;
    lock.unlock();
    if (schedule) pool_->schedule(shared_from_this());
}

void PodState::activate(std::span<const Envelope> history, std::uint64_t cutoff) {
    std::unique_lock lock(mutex_);
    if (!connected_ || accepting_) return;
    accepting_ = true;
    cutoff_ = cutoff;
    bool any = false;
    for (const Envelope& e : history) {
        if (e.sender == id_ || !accepts_locked(*e.message)) continue;
        box_.push(Envelope{e.message, 0, e.sender});  // seq 0: never cut
        any = true;
    }
    box_size_hint_.store(box_.size(), std::memory_order_relaxed);
    depth_.store(box_.size() + in_flight_, std::memory_order_relaxed);
    const bool schedule = any && !scheduled_;
    if (schedule) scheduled_ = true;
    lock.unlock();
    if (schedule) pool_->schedule(shared_from_this());
}

bool PodState::active() const {
    std::lock_guard lock(mutex_);
    return accepting_;
}

std::optional<std::string> PodState::prefix_locked() const {
    if (!connected_) return std::nullopt;
    if (waiter_) return std::string();
    if (handler_) return handler_->filter.subscription_prefix();
    return std::nullopt;
}

SubscriptionChange PodState::resubscribe_locked() {
    SubscriptionChange change{contributed_, prefix_locked()};
    contributed_ = change.added;
    return change;
}

std::optional<std::pair<SubscriptionChange, bool>> PodState::set_handler(TypeFilter filter, Handler handler) {
    auto entry = std::make_shared<HandlerEntry>(HandlerEntry{std::move(filter), std::move(handler)});
    std::lock_guard lock(mutex_);
    if (!connected_) return std::nullopt;
    handler_ = std::move(entry);
    generation_.fetch_add(1, std::memory_order_release);
    return std::pair{resubscribe_locked(), !accepting_};
}

Status PodState::wait(const Handler& handler, std::optional<std::chrono::steady_clock::time_point> deadline) {
    auto waiter = std::make_shared<Waiter>(handler);
    SubscriptionChange change;
    bool activate_needed = false;
    {
        std::lock_guard lock(mutex_);
        if (!connected_) return Error(Errc::disconnected, "pod is disconnected");
        if (on_own_thread()) {
            return Error(Errc::invalid_argument, "wait_on called from the pod's own handler would deadlock");
        }
        if (waiter_) return Error(Errc::invalid_argument, "this pod is already waiting");
        waiter_ = waiter;
        generation_.fetch_add(1, std::memory_order_release);
        change = resubscribe_locked();
        activate_needed = !accepting_;
    }
    auto core = core_.lock();
    if (core) core->pod_changed(*this, change, activate_needed);

    Status result = [&]() -> Status {
        std::unique_lock lock(waiter->mutex);
        auto finished = [&] { return waiter->result.has_value(); };
        if (!deadline) {
            waiter->done.wait(lock, finished);
        } else if (!waiter->done.wait_until(lock, *deadline, finished)) {
            return Error(Errc::timeout, "no wanted message arrived before the deadline");
        }
        return *waiter->result;
    }();

    {
        std::lock_guard lock(mutex_);
        if (waiter_ == waiter) {
            waiter_.reset();
            generation_.fetch_add(1, std::memory_order_release);
        }
        change = resubscribe_locked();
    }
    if (core) core->pod_changed(*this, change, false);
    return result;
}

void PodState::finish_disconnect(std::unique_lock<std::mutex>& lock, DisconnectReason reason) {
    // Called with the lock held and connected_ true; returns with it released.
    connected_ = false;
    connected_flag_.store(false, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    reason_ = reason;
    count_dropped(box_.clear());
    box_size_hint_.store(0, std::memory_order_relaxed);
    depth_.store(0, std::memory_order_relaxed);
    if (!running_ && !failed_.empty()) {
        // No worker owns the failure list now and none will again.
        count_dropped(failed_.size());
        failed_.clear();
    }
    auto waiter = std::move(waiter_);
    auto callback = std::move(on_disconnect_);
    auto pinned = std::move(pinned_);
    auto handler = std::move(handler_);  // release captures (often references back to the pod)
    const SubscriptionChange change = resubscribe_locked();
    lock.unlock();
    room_.notify_all();
    if (waiter)
        waiter->complete(Error(Errc::disconnected, std::string("pod disconnected: ") + to_string(reason)));
    if (reason == DisconnectReason::failures || reason == DisconnectReason::overflow) {
        counters_->disconnected_by_bus.fetch_add(1, std::memory_order_relaxed);
    }
    if (auto core = core_.lock()) core->pod_gone(*this, change);
    if (callback) {
        try {
            callback(reason);
        } catch (...) {
            // A throwing callback must not take the bus down.
        }
    }
}

void PodState::disconnect(DisconnectReason reason, bool wait_idle) {
    std::unique_lock lock(mutex_);
    if (connected_) {
        finish_disconnect(lock, reason);
        lock.lock();
    }
    if (wait_idle && !on_own_thread()) {
        idle_.wait(lock, [&] { return !running_; });
    }
}

bool PodState::connected() const { return connected_flag_.load(std::memory_order_acquire); }

std::optional<DisconnectReason> PodState::disconnect_reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
}

void PodState::on_disconnect(std::function<void(DisconnectReason)> callback) {
    std::unique_lock lock(mutex_);
    if (connected_) {
        on_disconnect_ = std::move(callback);
        return;
    }
    const auto reason = reason_.value_or(DisconnectReason::by_user);
    lock.unlock();
    if (callback) callback(reason);  // already gone: tell at once
}

void PodState::pin(std::shared_ptr<ReplySlot> slot) {
    std::lock_guard lock(mutex_);
    if (connected_) pinned_.push_back(std::move(slot));
}

PodStats PodState::stats() const {
    PodStats s;
    s.sent = sent_.load(std::memory_order_relaxed);
    s.delivered = delivered_.load(std::memory_order_relaxed);
    s.failed = failed_count_.load(std::memory_order_relaxed);
    s.redelivered = redelivered_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.queue_depth = depth_.load(std::memory_order_relaxed);
    return s;
}

void PodState::release_senders() {
    std::lock_guard lock(mutex_);
    room_.notify_all();
}

bool PodState::busy() const {
    std::lock_guard lock(mutex_);
    return connected_ && (!box_.empty() || running_);
}

void PodState::run() {
    {
        std::lock_guard lock(mutex_);
        if (!connected_) {
            scheduled_ = false;
            return;
        }
        running_ = true;
        running_thread_ = std::this_thread::get_id();
    }

    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;
    std::uint64_t redelivered = 0;
    // Publishes this turn's counts; before a disconnect too, so whoever sees
    // the pod disconnected also sees the failure that caused it.
    auto flush = [&] {
        if (delivered) {
            delivered_.fetch_add(delivered, std::memory_order_relaxed);
            counters_->delivered.fetch_add(delivered, std::memory_order_relaxed);
        }
        if (failed) {
            failed_count_.fetch_add(failed, std::memory_order_relaxed);
            counters_->failed.fetch_add(failed, std::memory_order_relaxed);
        }
        if (redelivered) {
            redelivered_.fetch_add(redelivered, std::memory_order_relaxed);
            counters_->redelivered.fetch_add(redelivered, std::memory_order_relaxed);
        }
        delivered = failed = redelivered = 0;
    };
    HandlerCache cache;
    // Up to kBatch messages per turn (fairness between pods), taken one at a
    // time: what is not being handled stays in the mailbox, where the
    // overflow policy, the capacity and the depth stat all see it.
    for (std::size_t turn = 0; turn < kBatch; ++turn) {
        Envelope next;
        {
            std::lock_guard lock(mutex_);
            if (!connected_ || box_.empty()) break;
            next = box_.pop();
            in_flight_ = 1;
            box_size_hint_.store(box_.size(), std::memory_order_relaxed);
            depth_.store(box_.size() + 1, std::memory_order_relaxed);
            if (room_waiters_ > 0) room_.notify_all();
        }
        deliver(next, cache, delivered, failed, redelivered);
        next.message.reset();
        if (failed_.size() >= settings_.failure_high_water) {
            flush();
            std::unique_lock lock(mutex_);
            if (connected_) finish_disconnect(lock, DisconnectReason::failures);
            break;
        }
    }

    flush();

    bool again = false;
    {
        std::lock_guard lock(mutex_);
        running_ = false;
        in_flight_ = 0;
        depth_.store(box_.size(), std::memory_order_relaxed);
        if (room_waiters_ > 0) room_.notify_all();
        if (!connected_) {
            if (!failed_.empty()) {
                count_dropped(failed_.size());
                failed_.clear();
            }
            scheduled_ = false;
        } else if (!box_.empty()) {
            again = true;  // stay scheduled; go to the back of the queue for fairness
        } else {
            scheduled_ = false;
        }
    }
    idle_.notify_all();
    if (again) pool_->schedule(shared_from_this());
}

void PodState::deliver(const Envelope& e, HandlerCache& cache, std::uint64_t& delivered,
                       std::uint64_t& failed, std::uint64_t& redelivered) {
    // Handler and waiter may change between two messages of a batch; the
    // generation counter says when, so the common case takes no lock.
    if (!connected_flag_.load(std::memory_order_acquire)) {
        count_dropped(1);  // disconnected after it was taken from the mailbox
        return;
    }
    const std::uint64_t generation = generation_.load(std::memory_order_acquire);
    if (generation != cache.generation) {
        std::lock_guard lock(mutex_);
        if (!connected_) return;
        cache.handler = handler_;
        cache.waiter = waiter_;
        cache.generation = generation_.load(std::memory_order_relaxed);
    }
    const auto& handler = cache.handler;
    const auto& waiter = cache.waiter;
    const Message& m = *e.message;
    if (waiter) {
        Status verdict = invoke(waiter->fn, m);
        if (verdict.ok() || verdict.error().code() != Errc::not_wanted) {
            waiter->complete(std::move(verdict));
            // The waiter is done: later messages of this batch go to the handler.
            std::lock_guard lock(mutex_);
            if (waiter_ == waiter) {
                waiter_.reset();
                generation_.fetch_add(1, std::memory_order_release);
            }
        }
        return;
    }
    if (!handler || !handler->filter.matches(m.type())) {
        count_dropped(1);  // queued for a handler that was replaced (or a wait that ended) before it ran
        return;
    }
    Status result = invoke(handler->fn, m);
    if (!result.ok()) {
        ++failed;
        failed_.push_back(e.message);
        return;
    }
    ++delivered;
    // Grav's rule: once the pod succeeds again, what it failed is re-delivered.
    while (!failed_.empty()) {
        MessagePtr retry = failed_.front();
        if (!handler->filter.matches(retry->type())) {
            failed_.erase(failed_.begin());
            count_dropped(1);  // the new handler does not want it
            continue;
        }
        if (!invoke(handler->fn, *retry).ok()) {
            ++failed;
            break;
        }
        failed_.erase(failed_.begin());
        ++redelivered;
        ++delivered;
    }
}

std::optional<std::string> PodState::subscription() const {
    std::lock_guard lock(mutex_);
    return contributed_;
}

}  // namespace grav::detail
