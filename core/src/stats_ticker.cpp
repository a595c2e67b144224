#include "stats_ticker.hpp"

#include "log.hpp"

#include <exception>
#include <string>

namespace grav::detail {

StatsTicker::StatsTicker(std::chrono::milliseconds interval, std::function<void()> tick)
    : state_(std::make_shared<State>()) {
    state_->interval = interval;
    state_->tick = std::move(tick);
    thread_ = std::thread([state = state_] { loop(state); });
}

StatsTicker::~StatsTicker() {
    stop();
    if (thread_.joinable()) thread_.detach();  // only when destroyed from inside a tick
}

void StatsTicker::stop() {
    const bool own = thread_.get_id() == std::this_thread::get_id();
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
        if (own) state_->abandoned = true;
    }
    state_->wake.notify_all();
    if (thread_.joinable() && !own) thread_.join();
}

void StatsTicker::loop(const std::shared_ptr<State>& state) {
    auto next = std::chrono::steady_clock::now() + state->interval;
    for (;;) {
        bool last = false;
        {
            std::unique_lock lock(state->mutex);
            last = state->wake.wait_until(lock, next, [&state] { return state->stopping; });
            if (state->abandoned) return;
        }
        // A fixed rate, not "interval after the callback": a slow callback
        // does not make the reports drift; after a long one the next comes at once.
        next += state->interval;
        if (const auto now = std::chrono::steady_clock::now(); next < now) next = now;
        try {
            state->tick();
        } catch (const std::exception& e) {
            log_warning(std::string("on_stats callback threw: ") + e.what());
        } catch (...) {
            log_warning("on_stats callback threw");
        }
        if (last) return;
    }
}

}  // namespace grav::detail
