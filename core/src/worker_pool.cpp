#include "worker_pool.hpp"

#include <atomic>

namespace grav::detail {
namespace {
thread_local const void* t_current_pool = nullptr;
constexpr int kSpinRounds = 2048;
}

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
        wake = shared_->sleepers > 0;
    }
    // Only pay for a futex wake when someone sleeps.
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
    std::unique_lock lock(shared->mutex);
    for (;;) {
        if (shared->stopping) break;
        if (shared->queue.empty()) {
            // Spin briefly before sleeping: a sender usually has more for us,
            // and a futex wake costs more than the message.
            lock.unlock();
            bool work = false;
            for (int i = 0; i < kSpinRounds && !work; ++i) {
                if (shared->queued.load(std::memory_order_acquire) > 0) work = true;
                else if (i % 64 == 63) std::this_thread::yield();
            }
            lock.lock();
            if (work || !shared->queue.empty() || shared->stopping) continue;
            ++shared->sleepers;
            shared->wake.wait(lock, [&] { return shared->stopping || !shared->queue.empty(); });
            --shared->sleepers;
            continue;
        }
        std::shared_ptr<Task> task = std::move(shared->queue.front());
        shared->queue.pop_front();
        shared->queued.store(shared->queue.size(), std::memory_order_release);
        lock.unlock();
        task->run();
        task.reset();
        lock.lock();
    }
    t_current_pool = nullptr;
}

}  // namespace grav::detail
