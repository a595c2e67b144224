// Failure feedback: a failing handler gets its messages again once it
// succeeds again; a pod that keeps failing is disconnected at the high-water
// mark, observably, while healthy pods keep receiving everything.
#include <grav/grav.hpp>

#include "support/recorder.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

namespace grav::test {
namespace {

TEST(Failure, APodFailingEveryMessageIsDisconnectedWhileNineHealthyPodsGetEverything) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> failing_calls{0};
    std::atomic<int> disconnect_callbacks{0};
    std::atomic<int> reason_seen{-1};
    std::vector<std::unique_ptr<std::atomic<int>>> counts;
    BusOptions options;
    options.failure_high_water = 64;
    Bus bus(std::move(options));
    Pod sender = bus.connect();
    Pod failing = bus.connect();
    failing.on([&](const Message&) -> Status {
        ++failing_calls;
        return failure("always fails");
    });
    failing.on_disconnect([&](DisconnectReason r) {
        reason_seen = static_cast<int>(r);
        ++disconnect_callbacks;
    });
    std::vector<Pod> healthy;
    for (int i = 0; i < 9; ++i) {
        healthy.push_back(bus.connect());
        counts.push_back(std::make_unique<std::atomic<int>>(0));
        healthy.back().on([c = counts.back().get()](const Message&) { ++*c; });
    }
    constexpr int kMessages = 500;
    for (int i = 0; i < kMessages; ++i) sender.send(Message("work", std::to_string(i)));

    ASSERT_TRUE(eventually([&] { return !failing.connected(); })) << "never disconnected; failed "
                                                                  << failing.stats().failed;
    EXPECT_EQ(failing.disconnect_reason(), DisconnectReason::failures);
    ASSERT_TRUE(eventually([&] { return disconnect_callbacks == 1; }));
    EXPECT_EQ(reason_seen, static_cast<int>(DisconnectReason::failures));
    EXPECT_GE(failing.stats().failed, 64U);
    EXPECT_LT(failing_calls, kMessages) << "should have been cut off at the high-water mark";
    EXPECT_GE(bus.stats().disconnected_by_bus, 1U);

    for (int i = 0; i < 9; ++i)
        ASSERT_TRUE(eventually([&] { return *counts[static_cast<std::size_t>(i)] == kMessages; }))
            << "healthy pod " << i << " got " << *counts[static_cast<std::size_t>(i)];
    for (auto& pod : healthy) EXPECT_TRUE(pod.connected());
    EXPECT_EQ(bus.stats().pods, 10U);
}

TEST(Failure, FailedMessagesAreRedeliveredOnceThePodSucceedsAgain) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<bool> failing{true};
    std::mutex mutex;
    std::map<std::string, int> successes;  // payload -> successful handler calls
    std::set<std::string> seen_after_success;
    Bus bus;
    Pod sender = bus.connect();
    Pod pod = bus.connect();
    pod.on([&](const Message& m) -> Status {
        std::lock_guard lock(mutex);
        const std::string p(m.payload_view());
        if (successes[p] > 0) seen_after_success.insert(p);
        if (failing) return failure("not yet");
        ++successes[p];
        return success();
    });
    for (int i = 0; i < 3; ++i) sender.send(Message("work", std::string(1, 'm').append(std::to_string(i))));
    ASSERT_TRUE(eventually([&] { return pod.stats().failed >= 3; }));
    failing = false;
    sender.send(Message("work", "m3"));
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex);
        return successes.size() == 4 &&
               std::all_of(successes.begin(), successes.end(), [](auto& kv) { return kv.second >= 1; });
    })) << "failed messages were not redelivered";
    std::this_thread::sleep_for(30ms);
    std::lock_guard lock(mutex);
    for (const auto& [p, n] : successes) EXPECT_EQ(n, 1) << p << " succeeded " << n << " times";
    EXPECT_TRUE(seen_after_success.empty()) << "a message was delivered again after it succeeded";
    const auto s = pod.stats();
    EXPECT_GE(s.failed, 3U);
    EXPECT_GE(s.redelivered, 3U);
    EXPECT_EQ(s.delivered, 4U);
    EXPECT_TRUE(pod.connected());
}

TEST(Failure, AThrowingHandlerCountsAsAFailureAndNeverCrashesTheBus) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> throws{0}, ok{0};
    Bus bus;
    Pod sender = bus.connect();
    Pod thrower = bus.connect();
    Pod healthy = bus.connect();
    thrower.on([&](const Message&) {
        ++throws;
        throw std::runtime_error("boom");
    });
    healthy.on([&](const Message&) { ++ok; });
    for (int i = 0; i < 10; ++i) sender.send(Message("t"));
    ASSERT_TRUE(eventually([&] { return ok == 10 && thrower.stats().failed >= 1; }));
    EXPECT_GE(throws, 1);
    EXPECT_GE(bus.stats().failed, 1U);
    thrower.on([](const Message&) {});  // recovers
    sender.send(Message("t"));
    ASSERT_TRUE(eventually([&] { return thrower.stats().delivered >= 1; }));
}

TEST(Failure, AHighWaterMarkOfOneDisconnectsAtTheFirstFailure) {
    BusOptions options;
    options.failure_high_water = 1;
    Bus bus(std::move(options));
    Pod sender = bus.connect();
    Pod pod = bus.connect();
    pod.on([](const Message&) -> Status { return failure("no"); });
    sender.send(Message("t"));
    ASSERT_TRUE(eventually([&] { return !pod.connected(); }));
    EXPECT_EQ(pod.disconnect_reason(), DisconnectReason::failures);
    EXPECT_EQ(pod.stats().failed, 1U);
}

}  // namespace
}  // namespace grav::test
