#include "support/test_util.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace grav::test {

double test_scale() {
    static const double scale = [] {
        const char* text = std::getenv("GRAV_TEST_SCALE");
        if (text == nullptr) return 1.0;
        try {
            const double v = std::stod(text);
            return v > 0 ? v : 1.0;
        } catch (...) {
            return 1.0;
        }
    }();
    return scale;
}

std::size_t scaled(std::size_t full, std::size_t minimum) {
    const auto n = static_cast<std::size_t>(static_cast<double>(full) * test_scale());
    return std::max(n, minimum);
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(50);
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return done();
        std::this_thread::sleep_for(pause);
        pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(5));
    }
    return true;
}

void Gate::open() {
    {
        std::lock_guard lock(mutex_);
        open_ = true;
    }
    cv_.notify_all();
}

bool Gate::wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return open_; });
}

bool Gate::is_open() const {
    std::lock_guard lock(mutex_);
    return open_;
}

std::chrono::microseconds process_cpu_time() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto us = [](const timeval& t) {
        return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
    };
    return us(usage.ru_utime) + us(usage.ru_stime);
}

}  // namespace grav::test
