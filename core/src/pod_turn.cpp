// The worker's side of a pod: one turn drains up to kBatch messages from
// the mailbox into the handler (or a waiter), in order. PodState's rule
// holds: at most one worker runs a pod's turn at a time.

#include "pod_state.hpp"

namespace grav::detail {
namespace {

constexpr std::size_t kBatch = 64;  // messages per turn: amortises scheduling, keeps turns short

}  // namespace

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
            publish_depth_locked();
            if (room_waiters_ > 0) room_.notify_all();
        }
        deliver(next, cache, delivered, failed, redelivered);
        next.message.reset();
        if (failures_.size() >= settings_.failure_high_water) {
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
        publish_depth_locked();
        if (room_waiters_ > 0) room_.notify_all();
        if (!connected_) {
            count_dropped(failures_.clear());
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
    if (!connected_.load(std::memory_order_acquire)) {
        count_dropped(1);  // disconnected after it was taken from the mailbox
        return;
    }
    const std::uint64_t generation = generation_.load(std::memory_order_acquire);
    if (generation != cache.generation) {
        std::lock_guard lock(mutex_);
        if (!connected_) {
            count_dropped(1);  // as above, seen under the lock
            return;
        }
        cache.handler = handler_;
        cache.waiter = waiter_;
        cache.generation = generation_.load(std::memory_order_relaxed);
    }
    const auto& handler = cache.handler;
    const auto& waiter = cache.waiter;
    const Message& m = *e.message;
    if (waiter) {
        Status verdict = invoke_handler(waiter->fn, m);
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
    if (!invoke_handler(handler->fn, m).ok()) {
        ++failed;
        failures_.record(e.message);
        return;
    }
    ++delivered;
    if (failures_.empty()) return;
    // Grav's rule: once the pod succeeds again, what it failed is re-delivered.
    const auto replayed = failures_.replay(handler->filter, handler->fn);
    failed += replayed.failed;
    redelivered += replayed.redelivered;
    delivered += replayed.redelivered;
    count_dropped(replayed.dropped);  // the new handler does not want them
}

}  // namespace grav::detail
