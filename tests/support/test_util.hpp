#pragma once
// Small helpers every core test uses: bounded waiting, a gate that holds
// handlers, and the GRAV_TEST_SCALE knob for sanitizer runs.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

namespace grav::test {

using namespace std::chrono_literals;

// GRAV_TEST_SCALE (a factor, default 1) shrinks heavy loops, e.g. 0.1 under
// TSan. Never below `minimum`.
double test_scale();
std::size_t scaled(std::size_t full, std::size_t minimum = 1);

// Polls `done` until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s);

// CPU time (user + system) of the whole process so far, every thread.
std::chrono::microseconds process_cpu_time();

// Holds handlers until opened. Every wait is bounded, so a test that forgets
// to open it fails instead of hanging.
class Gate {
public:
    void open();
    // True when opened within `timeout`.
    bool wait(std::chrono::milliseconds timeout = 10s);
    [[nodiscard]] bool is_open() const;

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

}  // namespace grav::test
