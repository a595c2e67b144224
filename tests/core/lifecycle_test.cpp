// Clean life cycle: shutdown while busy, destroying a bus with pods in their
// handlers, pods outliving the bus, thousands of connect/disconnect cycles.
// Run under ASan/LSan and TSan these also prove no leak and no race.
#include <grav/grav.hpp>

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace grav::test {
namespace {

TEST(Lifecycle, StopWhileBusyDrainsWithinTheTimeoutAndAccountsForEverything) {
    BusOptions options;
    options.mailbox_capacity = 100000;
    options.drain_timeout = 200ms;
    auto bus = std::make_unique<Bus>(std::move(options));
    std::vector<Pod> pods;
    std::vector<std::atomic<int>> reasons(4);
    for (int i = 0; i < 4; ++i) {
        pods.push_back(bus->connect());
        reasons[static_cast<std::size_t>(i)] = -1;
        pods.back().on([](const Message&) { std::this_thread::sleep_for(std::chrono::microseconds(200)); });
        pods.back().on_disconnect([r = &reasons[static_cast<std::size_t>(i)]](DisconnectReason why) {
            *r = static_cast<int>(why);
        });
    }
    Pod sender = bus->connect();
    const int n = static_cast<int>(scaled(10000, 1000));
    for (int i = 0; i < n; ++i) sender.send(Message("busy"));
    const auto t0 = std::chrono::steady_clock::now();
    bus->stop();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 3s) << "stop() must not wait beyond its drain timeout for long";
    for (std::size_t i = 0; i < pods.size(); ++i) {
        EXPECT_FALSE(pods[i].connected());
        EXPECT_EQ(pods[i].disconnect_reason(), DisconnectReason::bus_stopped);
        ASSERT_TRUE(eventually([&] { return reasons[i] == static_cast<int>(DisconnectReason::bus_stopped); }));
        const auto s = pods[i].stats();
        EXPECT_EQ(s.delivered + s.dropped, static_cast<std::uint64_t>(n))
            << "pod " << i << ": what was queued at stop must be counted as dropped";
    }
    EXPECT_EQ(bus->stats().pods, 0U);
    bus->stop();  // idempotent
    auto late = sender.send(Message("late"));
    EXPECT_FALSE(late.status().ok());
    bus.reset();
}

TEST(Lifecycle, DestroyingABusWithPodsMidHandler) {
    std::atomic<int> entered{0}, left{0};
    std::vector<Pod> pods;
    std::chrono::steady_clock::duration took{};
    {
        BusOptions options;
        options.drain_timeout = 100ms;
        auto owned = std::make_unique<Bus>(std::move(options));
        Bus& bus = *owned;
        pods.reserve(4);  // handlers keep pointers to their pods
        for (int i = 0; i < 4; ++i) {
            pods.push_back(bus.connect());
            pods.back().on([&, p = &pods.back()](const Message&) {
                ++entered;
                std::this_thread::sleep_for(100ms);
                p->send(Message("from.dying.handler"));  // the bus is going away meanwhile
                ++left;
            });
        }
        Pod sender = bus.connect();
        for (int i = 0; i < 20; ++i) sender.send(Message("t"));
        ASSERT_TRUE(eventually([&] { return entered >= 2; }));
        const auto t0 = std::chrono::steady_clock::now();
        owned.reset();  // ~Bus while handlers run
        took = std::chrono::steady_clock::now() - t0;
    }
    EXPECT_EQ(entered, left) << "the bus was destroyed with a handler still running";
    // Drain budget (100 ms) plus the handler calls already running (100 ms):
    // queued messages must not keep running handlers after the pods are gone.
    EXPECT_LT(took, 1s) << "destroying the bus took "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
    for (auto& pod : pods) {
        EXPECT_FALSE(pod.connected());
        EXPECT_FALSE(pod.send(Message("after")).status().ok());
    }
}

TEST(Lifecycle, PodsAndReceiptsOutliveTheBus) {
    std::optional<Pod> pod;
    std::optional<Receipt> receipt;
    {
        Bus bus;
        pod.emplace(bus.connect());
        pod->on([](const Message&) {});
        receipt = pod->send(Message("ask"));
    }
    EXPECT_FALSE(pod->connected());
    EXPECT_EQ(pod->disconnect_reason(), DisconnectReason::bus_stopped);
    EXPECT_FALSE(pod->send(Message("t")).status().ok());
    pod->on([](const Message&) {});  // no crash
    auto r = receipt->wait_until(2s);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().code(), Errc::timeout) << "a closed bus should end the wait at once";
    EXPECT_FALSE(pod->wait_until(1s, [](const Message&) { return success(); }).ok());
    pod->disconnect();
    pod.reset();
}

TEST(Lifecycle, ThousandsOfConnectDisconnectCyclesUnderTraffic) {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> hellos_seen{0};
    Bus bus;
    // A long-lived pod proves the bus still routes after all the churn.
    Pod witness = bus.connect();
    ASSERT_TRUE(witness.on_type("hello", [&](const Message&) { ++hellos_seen; }).ok());
    Pod sender = bus.connect();
    std::thread traffic([&] {
        while (!stop) {
            sender.send(Message("noise"));
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    });
    const std::size_t cycles = scaled(5000, 200);
    std::uint64_t hellos_sent = 0;
    for (std::size_t i = 0; i < cycles; ++i) {
        Pod p = (i % 3 == 0) ? bus.connect_with_replay() : bus.connect();
        p.on([](const Message&) {});
        if (i % 7 == 0) {
            p.send(Message("hello"));
            ++hellos_sent;
        }
        if (i % 2 == 0) p.disconnect();
    }  // the others disconnect on destruction
    stop = true;
    traffic.join();
    EXPECT_EQ(bus.stats().pods, 2U);
    ASSERT_TRUE(eventually([&] { return hellos_seen == hellos_sent; }))
        << hellos_seen << " of " << hellos_sent << " hellos reached the witness";
}

TEST(Lifecycle, ManyBusesComeAndGo) {
    for (std::size_t i = 0; i < scaled(200, 20); ++i) {
        std::atomic<int> got{0};
        Bus bus;
        Pod a = bus.connect();
        Pod b = bus.connect();
        b.on([&](const Message&) { ++got; });
        a.send(Message("t"));
        ASSERT_TRUE(eventually([&] { return got == 1; }));
    }
}

}  // namespace
}  // namespace grav::test
