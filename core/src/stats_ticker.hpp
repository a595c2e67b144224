#pragma once
// BusOptions::on_stats: a thread of the bus's own that hands the bus's
// counters to a callback every interval, and once more when the bus stops
// (so that a program pushing metrics elsewhere gets the final figures).
// Only a bus with a callback has the thread; it sleeps on a condition
// variable in between, so stop() ends it at once, never after an interval.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace grav::detail {

class StatsTicker {
public:
    StatsTicker(std::chrono::milliseconds interval, std::function<void()> tick);
    ~StatsTicker();  // stop()
    StatsTicker(const StatsTicker&) = delete;
    StatsTicker& operator=(const StatsTicker&) = delete;

    // The last tick runs, then the thread ends and is joined. Called from
    // the tick itself (the callback stopped or dropped the bus): no last
    // tick, no join; the thread ends when the tick returns, touching only
    // the state it shares. Idempotent.
    void stop();

private:
    struct State {
        std::chrono::milliseconds interval;
        std::function<void()> tick;
        std::mutex mutex;
        std::condition_variable wake;
        bool stopping = false;
        bool abandoned = false;  // stopped from inside a tick: tick no more
    };
    static void loop(const std::shared_ptr<State>& state);

    std::shared_ptr<State> state_;
    std::thread thread_;
};

}  // namespace grav::detail
