#pragma once
// Clocks, output and statistics shared by the NATS bridge benchmark's parts.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace grav::natsbench {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// CPU time of the calling thread, in ns: what the sending loop itself costs.
inline std::int64_t thread_cpu_ns() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// The `p`-quantile (0..1) of `values`, nearest rank; 0 for none.
inline double quantile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::lround(p * static_cast<double>(values.size() - 1)));
    return values[std::min(rank, values.size() - 1)];
}

inline double median(std::vector<double> values) { return quantile(std::move(values), 0.5); }

// One fan-out measurement: how many were sent and arrived, and the rate
// from the first send to the last arrival.
struct FanoutResult {
    std::uint64_t sent = 0;
    std::uint64_t send_failed = 0;
    std::uint64_t arrived = 0;
    double seconds = 0;       // first send to last arrival
    double send_seconds = 0;  // first send to last send returned
    double send_cpu_us = 0;   // the sending thread's CPU time per message
    [[nodiscard]] double rate() const { return seconds > 0 ? static_cast<double>(arrived) / seconds : 0; }
};

// Waits until `count()` reaches `want`, or stops growing for `idle`, or
// `limit` passes; returns the final count.
template <typename Count>
std::uint64_t wait_arrivals(Count count, std::uint64_t want, std::chrono::milliseconds idle,
                            std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    std::uint64_t last = count();
    auto last_change = Clock::now();
    while (last < want && Clock::now() < deadline && Clock::now() - last_change < idle) {
        std::this_thread::sleep_for(1ms);
        const std::uint64_t n = count();
        if (n != last) {
            last = n;
            last_change = Clock::now();
        }
    }
    return count();
}

inline std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

}  // namespace grav::natsbench
