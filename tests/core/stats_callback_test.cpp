// BusOptions::on_stats: called every stats_interval with the bus's counters,
// once more at stop() with the final figures, never after, and stop() does
// not wait for the interval.
#include <grav/grav.hpp>

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace grav::test {
namespace {

struct Reports {
    std::mutex mutex;
    std::vector<BusStats> seen;
    std::thread::id thread;
    void add(const BusStats& s) {
        std::lock_guard lock(mutex);
        seen.push_back(s);
        thread = std::this_thread::get_id();
    }
    std::size_t count() {
        std::lock_guard lock(mutex);
        return seen.size();
    }
    BusStats last() {
        std::lock_guard lock(mutex);
        return seen.back();
    }
};

TEST(StatsCallback, ReportsPeriodicallyWithTheCurrentCounters) {
    Reports reports;
    BusOptions options;
    options.stats_interval = 20ms;
    options.on_stats = [&reports](const BusStats& s) { reports.add(s); };
    Bus bus(std::move(options));
    Pod pod = bus.connect();
    const int n = 25;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(pod.send(Message("s.t", "x")).status().ok());
    // Several reports, and one that has seen every message sent.
    EXPECT_TRUE(eventually([&] { return reports.count() >= 3 && reports.last().sent == n; }));
    EXPECT_NE(reports.thread, std::this_thread::get_id());
}

TEST(StatsCallback, StopGivesTheFinalFiguresAtOnceAndThenNothing) {
    Reports reports;
    BusOptions options;
    options.stats_interval = std::chrono::minutes(10);  // never due during the test
    options.on_stats = [&reports](const BusStats& s) { reports.add(s); };
    Bus bus(std::move(options));
    Pod pod = bus.connect();
    const int n = 7;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(pod.send(Message("s.t", "x")).status().ok());
    EXPECT_EQ(reports.count(), 0U);
    const auto before = std::chrono::steady_clock::now();
    bus.stop();
    // Not the 10-minute interval: a bounded wait far below it.
    EXPECT_LT(std::chrono::steady_clock::now() - before, 30s);
    ASSERT_EQ(reports.count(), 1U);
    EXPECT_EQ(reports.last().sent, static_cast<std::uint64_t>(n));
    EXPECT_EQ(reports.last().pods, 0U);  // after the pods were disconnected
    std::this_thread::sleep_for(50ms);
    bus.stop();  // idempotent: no second final report
    EXPECT_EQ(reports.count(), 1U);
}

TEST(StatsCallback, ACallbackThatThrowsKeepsTheReportsComing) {
    std::atomic<int> calls{0};
    BusOptions options;
    options.stats_interval = 10ms;
    options.on_stats = [&calls](const BusStats&) {
        calls.fetch_add(1);
        throw std::runtime_error("push failed");
    };
    Bus bus(std::move(options));
    EXPECT_TRUE(eventually([&] { return calls.load() >= 3; }));
}

TEST(StatsCallback, AnIntervalOfZeroIsRefused) {
    BusOptions options;
    options.stats_interval = 0ms;
    options.on_stats = [](const BusStats&) {};
    try {
        Bus bus(std::move(options));
        FAIL() << "a bus with on_stats and stats_interval 0 started";
    } catch (const StartError& e) {
        EXPECT_EQ(e.error().code(), Errc::invalid_argument);
    }
}

}  // namespace
}  // namespace grav::test
