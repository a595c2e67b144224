#pragma once
// Deadlines for future-style requests. One thread, started on first use (an
// idle bus pays nothing), sleeping until the next deadline. Cancelled timers
// release what their callback holds at once, not at the deadline.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

namespace grav::detail {

class TimerQueue {
public:
    using Clock = std::chrono::steady_clock;
    using TimerId = std::uint64_t;

    TimerQueue() = default;
    ~TimerQueue();
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    // Runs `fn` on the timer thread at `deadline` unless cancelled first.
    TimerId schedule(Clock::time_point deadline, std::function<void()> fn);
    // True when the timer was pending (its callback will not run).
    bool cancel(TimerId id);
    // Cancels everything pending and joins the thread. Idempotent.
    void stop();

private:
    void loop();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> timers_;
    std::unordered_map<TimerId, Clock::time_point> deadlines_;
    TimerId next_id_ = 1;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace grav::detail
