#include "pod_state.hpp"

#include "bus_core.hpp"
#include "reply_slot.hpp"
#include "room_wait.hpp"

namespace grav::detail {

void PodState::Waiter::complete(Status s) {
    {
        std::lock_guard lock(mutex);
        if (result) return;
        result = std::move(s);
    }
    done.notify_all();
}

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
    count_dropped(failures_.clear());
}

void PodState::publish_depth_locked() noexcept {
    depth_.store(connected_ ? box_.size() + taken_.load(std::memory_order_relaxed) : 0,
                 std::memory_order_relaxed);
}

// The capacity bounds what waits: the mailbox and what the worker took but
// has not started; the one message being handled is not waiting.
bool PodState::full_locked() const noexcept {
    const std::size_t taken = taken_.load(std::memory_order_seq_cst);
    return box_.size() + (taken > 0 ? taken - 1 : 0) >= box_.capacity();
}

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
    publish_depth_locked();
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
    publish_depth_locked();
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
    connected_.store(false, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
    reason_ = reason;
    count_dropped(box_.clear());
    publish_depth_locked();
    // No worker owns the failure list now and none will again.
    if (!running_) count_dropped(failures_.clear());
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

bool PodState::connected() const { return connected_.load(std::memory_order_acquire); }

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

std::optional<std::string> PodState::subscription() const {
    std::lock_guard lock(mutex_);
    return contributed_;
}

}  // namespace grav::detail
