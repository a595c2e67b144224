// The transport under load and at rest, with real sockets on 127.0.0.1:
// backpressure at the high-water mark, idle CPU, no fd or thread leaks.
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;
using grav::test::process_cpu_time;

TEST(ZmqTransport, BackpressureInsteadOfDropsAtTheHighWaterMark) {
    auto small = fast_options();
    small.send_hwm = 50;
    small.recv_hwm = 50;
    small.max_queued = 1000;
    TestNode a("a", small), b("b", small);
    std::atomic<int> seen{0};
    std::atomic<bool> published_all{false};
    b.events.on_message_fn = [&](const Message&) {
        // The first message is held until the sender has had to wait (or has
        // sent everything, and the test fails): a consumer this slow makes
        // the outcome independent of how fast a sanitizer lets the sender go.
        if (++seen == 1) {
            for (int i = 0; i < 1000 && !published_all; ++i) {
                const auto s = a.transport->stats();
                if (s.at("zmq.backpressure") + s.at("zmq.publish_blocked") > 0) break;
                std::this_thread::sleep_for(10ms);
            }
        }
        if (seen % 500 == 0) std::this_thread::sleep_for(20ms);  // and slow afterwards
    };
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    const int n = static_cast<int>(grav::test::scaled(20000, 5000));
    // 4 KiB each, 20 MB or more: far more than the queue (1000 messages),
    // the high-water marks (counted in batches of at most ~8 KiB) and the
    // socket buffers of a consumer that stopped reading hold, so the sender
    // must wait.
    const std::string pad(4096, '.');
    for (int i = 0; i < n; ++i) a.transport->publish(make("t", std::to_string(i) + pad, a.id()));
    published_all = true;
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == static_cast<std::size_t>(n); }, 30s))
        << b.events.message_count() << " of " << n;
    int i = 0;
    for (const auto& r : b.events.messages()) ASSERT_EQ(r.message->payload_view(), std::to_string(i++) + pad);
    const auto sa = a.transport->stats();
    EXPECT_GT(sa.at("zmq.backpressure") + sa.at("zmq.publish_blocked"), 0u);
    EXPECT_EQ(b.transport->stats().at("zmq.gaps"), 0u);
}

TEST(ZmqTransport, TwoIdleNodesUseAlmostNoCpu) {
    // An idle node wakes for its timers and heartbeats only: its timers follow
    // their deadlines, and with nothing due they run once a second (an idle
    // node's CPU: docs/BENCHMARKS.md, ZeroMQ transport). A loop that spins
    // or wakes on a fixed short period fails this. The budget, 1 % of a core
    // for both nodes together, grows with the sanitizers' slowdown.
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    std::this_thread::sleep_for(200ms);  // the join's own traffic settles
    const auto cpu_before = process_cpu_time();
    const auto wall_before = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(2s);
    const auto cpu = process_cpu_time() - cpu_before;
    const auto wall =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - wall_before);
    const double share = static_cast<double>(cpu.count()) / static_cast<double>(wall.count());
    std::printf("two idle nodes used %ld us of CPU in %ld ms\n", static_cast<long>(cpu.count()),
                static_cast<long>(wall.count() / 1000));
    EXPECT_LT(share, 0.01 / grav::test::test_scale())
        << "two idle nodes used " << cpu.count() / 1000 << " ms of CPU in " << wall.count() / 1000 << " ms";
}

TEST(ZmqTransport, ManyConnectStopCyclesLeakNoFdsOrThreads) {
    auto count_dir = [](const char* dir) {
        std::size_t n = 0;
        for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++n;
        return n;
    };
    TestNode a("a");
    ASSERT_TRUE(a.start().ok());
    auto cycle = [&] {
        TestNode b("b");
        ASSERT_TRUE(b.start().ok());
        join(a, b);
        b.transport->stop();
        ASSERT_TRUE(eventually([&] { return a.events.has_left(b.id()); }, 5s));
    };
    for (int i = 0; i < 5; ++i) cycle();  // warm-up: lazily created things
    const auto fds = count_dir("/proc/self/fd");
    const auto threads = count_dir("/proc/self/task");
    const int cycles = static_cast<int>(grav::test::scaled(100, 20));
    for (int i = 0; i < cycles; ++i) {
        cycle();
        if (HasFatalFailure()) return;
    }
    // a's sockets to the departed peers are closed asynchronously by libzmq.
    EXPECT_TRUE(eventually([&] { return count_dir("/proc/self/fd") <= fds; }, 5s))
        << count_dir("/proc/self/fd") << " fds, was " << fds;
    EXPECT_EQ(count_dir("/proc/self/task"), threads);
    EXPECT_EQ(a.events.joined().size(), static_cast<std::size_t>(cycles + 5));
}

}  // namespace
}  // namespace grav::ztest
