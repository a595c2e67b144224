#include "timer_queue.hpp"

namespace grav::detail {

TimerQueue::~TimerQueue() { stop(); }

TimerQueue::TimerId TimerQueue::schedule(Clock::time_point deadline, std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    if (stopping_) return 0;
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    const TimerId id = next_id_++;
    timers_.emplace(std::make_pair(deadline, id), std::move(fn));
    deadlines_.emplace(id, deadline);
    wake_.notify_one();
    return id;
}

bool TimerQueue::cancel(TimerId id) {
    std::function<void()> released;  // destroyed outside the lock
    std::lock_guard lock(mutex_);
    auto it = deadlines_.find(id);
    if (it == deadlines_.end()) return false;
    auto node = timers_.extract(std::make_pair(it->second, id));
    deadlines_.erase(it);
    if (!node.empty()) released = std::move(node.mapped());
    return true;
}

void TimerQueue::stop() {
    std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> dropped;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        dropped.swap(timers_);
        deadlines_.clear();
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        if (thread_.get_id() == std::this_thread::get_id()) {
            thread_.detach();
        } else {
            thread_.join();
        }
    }
}

void TimerQueue::loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (timers_.empty()) {
            wake_.wait(lock);
            continue;
        }
        auto first = timers_.begin();
        // A copy: cancel() may erase this entry (and its key) while we sleep.
        const Clock::time_point deadline = first->first.first;
        if (deadline > Clock::now()) {
            wake_.wait_until(lock, deadline);
            continue;
        }
        auto fn = std::move(first->second);
        deadlines_.erase(first->first.second);
        timers_.erase(first);
        lock.unlock();
        fn();
        fn = nullptr;
        lock.lock();
    }
}

}  // namespace grav::detail
