#include "worker_pool.hpp"

#include <atomic>
#include <chrono>

namespace grav::detail {
namespace {
thread_local const void* t_current_pool = nullptr;

// A worker that runs out of tasks spins a little before it sleeps: a sender
// in a burst usually has more for it, and a futex wake costs more than the
// message. The spin adapts, because on a trickle it is pure waste (every
// round ends in sched_yield calls, and ten nodes on two cores spent most of
// their CPU there): after each sleep that outlasted a spin, the next spin is
// halved, down to none; a sleep short enough that a spin would have caught
// the task restores the full spin.
constexpr int kMaxSpinRounds = 2048;
constexpr int kRoundsPerYield = 64;
constexpr auto kSpinWouldHaveCaught = std::chrono::microseconds(50);
}  // namespace

WorkerPool::WorkerPool(std::size_t threads) : shared_(std::make_shared<Shared>()) {
    if (threads == 0) threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
        threads_.emplace_back([shared = shared_] { loop(shared); });
    }
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::schedule(std::shared_ptr<Task> task) {
    bool wake = false;
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->stopping) return;
        shared_->queue.push_back(std::move(task));
        shared_->queued.store(shared_->queue.size(), std::memory_order_release);
        // A spinning worker takes it: no futex wake for the sender to pay
        // (its spin ends under this lock, before it may sleep: no task is
        // left behind a spinner that went to sleep).
        wake = shared_->sleepers > 0 && shared_->spinners == 0;
    }
    if (wake) shared_->wake.notify_one();
}

void WorkerPool::stop() {
    std::lock_guard stop_lock(stop_mutex_);
    std::deque<std::shared_ptr<Task>> dropped;
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->stopping && threads_.empty()) return;
        shared_->stopping = true;
        dropped.swap(shared_->queue);
    }
    shared_->wake.notify_all();
    for (auto& t : threads_) {
        if (t.get_id() == std::this_thread::get_id()) {
            t.detach();
        } else if (t.joinable()) {
            t.join();
        }
    }
    threads_.clear();
}

bool WorkerPool::is_own_thread() const noexcept { return t_current_pool == shared_.get(); }

bool WorkerPool::on_worker_thread() noexcept { return t_current_pool != nullptr; }

void WorkerPool::loop(const std::shared_ptr<Shared>& shared) {
    t_current_pool = shared.get();
    int spin_rounds = kMaxSpinRounds;
    std::unique_lock lock(shared->mutex);
    for (;;) {
        if (shared->stopping) break;
        if (shared->queue.empty()) {
            ++shared->spinners;
            lock.unlock();
            bool work = false;
            for (int i = 0; i < spin_rounds && !work; ++i) {
                if (shared->queued.load(std::memory_order_acquire) > 0)
                    work = true;
                else if (i % kRoundsPerYield == kRoundsPerYield - 1)
                    std::this_thread::yield();
            }
            lock.lock();
            --shared->spinners;
            if (work || !shared->queue.empty() || shared->stopping) continue;
            ++shared->sleepers;
            const auto slept_at = std::chrono::steady_clock::now();
            shared->wake.wait(lock, [&] { return shared->stopping || !shared->queue.empty(); });
            --shared->sleepers;
            spin_rounds = std::chrono::steady_clock::now() - slept_at < kSpinWouldHaveCaught
                              ? kMaxSpinRounds
                              : spin_rounds / 2;
            continue;
        }
        std::shared_ptr<Task> task = std::move(shared->queue.front());
        shared->queue.pop_front();
        shared->queued.store(shared->queue.size(), std::memory_order_release);
        // More waits than this worker takes, and schedule() woke no one
        // while a spinner was there to take it: pass the wake-up on.
        if (!shared->queue.empty() && shared->sleepers > 0 && shared->spinners == 0)
            shared->wake.notify_one();
        lock.unlock();
        task->run();
        task.reset();
        lock.lock();
    }
    t_current_pool = nullptr;
}

}  // namespace grav::detail
