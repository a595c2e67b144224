// The worker's side of a pod: a turn drains the mailbox into the handler
// (or a waiter), in order, kBatch messages at a time. PodState's rule
// holds: at most one worker runs a pod's turn at a time.

#include "pod_state.hpp"

#include <array>

namespace grav::detail {
namespace {

constexpr std::size_t kBatch =
    64;  // messages per lock and per fairness check: amortises both, keeps turns short

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
    // Messages are taken from the mailbox in batches under one lock (with
    // OverflowPolicy::block; one at a time otherwise, since drop_oldest must
    // find the oldest waiting message in the mailbox). A taken message still
    // counts as waiting until the worker starts it (taken_), so the capacity,
    // the room senders wait for and the depth stat mean what they did with
    // one at a time. A turn goes on while no other pod waits for a worker
    // (fairness between pods); a pod that stays busy is then not rescheduled
    // (a queue round trip and a sleeper's wake-up) every batch.
    std::array<Envelope, kBatch> batch;
    for (bool first = true;; first = false) {
        if (!first && pool_->has_queued()) break;
        std::size_t n = 0;
        {
            std::lock_guard lock(mutex_);
            if (!connected_ || box_.empty()) break;
            const std::size_t want = settings_.overflow == OverflowPolicy::block ? kBatch : 1;
            while (n < want && !box_.empty()) batch[n++] = box_.pop();
            taken_.store(n, std::memory_order_seq_cst);
            publish_depth_locked();
            if (room_waiters_.load(std::memory_order_seq_cst) > 0) room_.notify_all();
        }
        bool disconnected = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (i > 0) {
                // The next one starts: one less waits. Paired with enqueue's
                // room_waiters_ then full_locked() (both seq_cst): a sender
                // that went to sleep is seen here, or saw the room.
                taken_.fetch_sub(1, std::memory_order_seq_cst);
                if (room_waiters_.load(std::memory_order_seq_cst) > 0) {
                    std::lock_guard lock(mutex_);
                    room_.notify_all();
                }
            }
            if (disconnected) {
                batch[i].message.reset();
                count_dropped(1);  // taken, never handled: the pod is gone
                continue;
            }
            deliver(batch[i], cache, delivered, failed, redelivered);
            batch[i].message.reset();
            if (failures_.size() >= settings_.failure_high_water) {
                flush();
                std::unique_lock lock(mutex_);
                if (connected_) finish_disconnect(lock, DisconnectReason::failures);
                disconnected = true;
            }
        }
        flush();  // the counters never lag more than a batch
        if (disconnected) break;
    }

    flush();

    bool again = false;
    {
        std::lock_guard lock(mutex_);
        running_ = false;
        taken_.store(0, std::memory_order_seq_cst);
        publish_depth_locked();
        if (room_waiters_.load(std::memory_order_seq_cst) > 0) room_.notify_all();
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
