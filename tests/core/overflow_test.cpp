// Bounded mailboxes: each overflow policy does what it says, and nothing is
// ever dropped silently (the counters add up).
#include <grav/grav.hpp>

#include "support/recorder.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace grav::test {
namespace {

constexpr std::size_t kCapacity = 8;

Bus make_bus(OverflowPolicy policy, std::size_t capacity = kCapacity) {
    BusOptions options;
    options.mailbox_capacity = capacity;
    options.overflow = policy;
    options.workers = 2;
    return Bus(std::move(options));
}

// A pod whose handler holds at the gate, recording what it handles.
struct HeldPod {
    HeldPod(Bus& bus, Gate& gate) : pod(bus.connect()) {
        pod.on([this, &gate](const Message& m) {
            gate.wait(20s);
            inbox.add(m);
        });
    }
    Pod pod;
    Inbox inbox;
};

TEST(Overflow, BlockMakesTheSenderWaitAndLosesNothing) {
    // State the handlers touch, declared first so it outlives every pod.
    Gate gate;
    std::atomic<int> sent{0};
    std::vector<std::string> expected;
    Bus bus = make_bus(OverflowPolicy::block);
    HeldPod held(bus, gate);
    Pod sender = bus.connect();
    constexpr int kMessages = 100;
    std::thread t([&] {
        for (int i = 0; i < kMessages; ++i) {
            sender.send(Message("t", std::to_string(i)));
            ++sent;
        }
    });
    std::this_thread::sleep_for(200ms);
    const int sent_while_held = sent;
    gate.open();
    const bool finished = eventually([&] { return sent == kMessages; }, 20s);
    if (!finished) held.pod.disconnect();
    t.join();
    EXPECT_LE(sent_while_held, static_cast<int>(kCapacity) + 2)
        << "the sender did not block on a full mailbox";
    EXPECT_GE(sent_while_held, static_cast<int>(kCapacity))
        << "the sender blocked before the mailbox was full";
    ASSERT_TRUE(finished);
    ASSERT_TRUE(eventually([&] { return held.inbox.size() == kMessages; }));
    for (int i = 0; i < kMessages; ++i) expected.push_back(std::to_string(i));
    EXPECT_EQ(held.inbox.payloads(), expected);
    EXPECT_EQ(held.pod.stats().dropped, 0U);
    EXPECT_EQ(bus.stats().dropped, 0U);
}

TEST(Overflow, DropOldestKeepsTheNewestAndCountsEveryDrop) {
    // State the handlers touch, declared first so it outlives every pod.
    Gate gate;
    std::atomic<int> healthy_count{0};
    Bus bus = make_bus(OverflowPolicy::drop_oldest);
    HeldPod held(bus, gate);
    Pod healthy = bus.connect();
    healthy.on([&](const Message&) { ++healthy_count; });
    Pod sender = bus.connect();
    constexpr int kMessages = 100;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kMessages; ++i) sender.send(Message("t", std::to_string(i)));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "drop_oldest must not block the sender";
    ASSERT_TRUE(eventually([&] { return held.pod.stats().dropped > 0; }));
    gate.open();
    ASSERT_TRUE(eventually([&] {
        return held.inbox.size() + held.pod.stats().dropped == kMessages && held.pod.stats().queue_depth == 0;
    })) << held.inbox.size()
        << " handled + " << held.pod.stats().dropped << " dropped";
    const auto got = held.inbox.payloads();
    EXPECT_LE(got.size(), kCapacity + 1);
    // The newest messages survive, in order.
    ASSERT_GE(got.size(), kCapacity - 1);
    for (std::size_t k = 0; k < kCapacity - 1; ++k)
        EXPECT_EQ(got[got.size() - 1 - k], std::to_string(kMessages - 1 - static_cast<int>(k)));
    EXPECT_TRUE(held.pod.connected());
    // The other pod (same small mailbox) may drop too, but counts it.
    ASSERT_TRUE(eventually([&] {
        return healthy.stats().delivered + healthy.stats().dropped == kMessages &&
               healthy.stats().queue_depth == 0;
    }));
    EXPECT_EQ(healthy.stats().delivered, static_cast<std::uint64_t>(healthy_count));
    EXPECT_EQ(bus.stats().dropped, held.pod.stats().dropped + healthy.stats().dropped);
}

TEST(Overflow, DisconnectPolicyDisconnectsTheOverflowingPodAndCountsItsQueue) {
    // State the handlers touch, declared first so it outlives every pod.
    Gate gate;
    std::atomic<int> reason_seen{-1};
    std::atomic<bool> sent_all{false};
    std::atomic<int> healthy_count{0};
    Bus bus = make_bus(OverflowPolicy::disconnect);
    HeldPod held(bus, gate);
    held.pod.on_disconnect([&](DisconnectReason r) { reason_seen = static_cast<int>(r); });
    Pod sender = bus.connect();
    constexpr int kMessages = 100;
    std::thread t([&] {
        for (int i = 0; i < kMessages; ++i) sender.send(Message("t", std::to_string(i)));
        sent_all = true;
    });
    const bool cut = eventually([&] { return !held.pod.connected(); }, 10s);
    const bool sender_free = eventually([&] { return sent_all.load(); }, 10s);
    gate.open();
    t.join();
    ASSERT_TRUE(cut) << "the overflowing pod was not disconnected";
    EXPECT_TRUE(sender_free) << "the sender waited for a pod that is being disconnected";
    EXPECT_EQ(held.pod.disconnect_reason(), DisconnectReason::overflow);
    ASSERT_TRUE(eventually([&] { return reason_seen == static_cast<int>(DisconnectReason::overflow); }));
    // The bus goes on for the others: a pod that keeps up stays connected.
    Pod healthy = bus.connect();
    healthy.on([&](const Message&) { ++healthy_count; });
    for (int i = 1; i <= 20; ++i) {
        sender.send(Message("t"));
        ASSERT_TRUE(eventually([&] { return healthy_count == i; }));
    }
    EXPECT_TRUE(healthy.connected());
    const auto s = held.pod.stats();
    EXPECT_GE(s.dropped, kCapacity - 1) << "its queued messages must be counted as dropped";
    EXPECT_LE(held.inbox.size() + s.dropped, static_cast<std::size_t>(kMessages));
    EXPECT_EQ(held.inbox.size(), s.delivered);
    EXPECT_EQ(bus.stats().disconnected_by_bus, 1U);
    EXPECT_GE(bus.stats().dropped, s.dropped);
}

// Whatever happens, what was sent to a pod is accounted for: delivered,
// dropped, or still queued. Several policies, several pods, concurrent senders.
TEST(Overflow, NoSilentDropTheCountersAddUp) {
    for (OverflowPolicy policy : {OverflowPolicy::block, OverflowPolicy::drop_oldest}) {
        SCOPED_TRACE(to_string(policy));
        std::vector<std::unique_ptr<std::atomic<std::uint64_t>>> calls;  // outlives the pods
        Bus bus = make_bus(policy, 4);
        constexpr int kReceivers = 5;
        std::vector<Pod> receivers;
        for (int i = 0; i < kReceivers; ++i) {
            receivers.push_back(bus.connect());
            calls.push_back(std::make_unique<std::atomic<std::uint64_t>>(0));
            receivers.back().on([c = calls.back().get(), i](const Message&) {
                if (i == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));  // one slow pod
                ++*c;
            });
        }
        constexpr int kSenders = 3;
        const int per_sender = static_cast<int>(scaled(3000, 300));
        std::vector<Pod> senders;
        for (int s = 0; s < kSenders; ++s) senders.push_back(bus.connect());
        std::vector<std::thread> threads;
        for (int s = 0; s < kSenders; ++s)
            threads.emplace_back([&, s] {
                for (int i = 0; i < per_sender; ++i) senders[static_cast<std::size_t>(s)].send(Message("t"));
            });
        for (auto& t : threads) t.join();
        const std::uint64_t per_pod =
            static_cast<std::uint64_t>(kSenders) * static_cast<std::uint64_t>(per_sender);
        for (int i = 0; i < kReceivers; ++i) {
            auto& pod = receivers[static_cast<std::size_t>(i)];
            ASSERT_TRUE(eventually(
                [&] {
                    const auto s = pod.stats();
                    return s.delivered + s.dropped == per_pod && s.queue_depth == 0;
                },
                30s))
                << "pod " << i << ": delivered " << pod.stats().delivered << " dropped "
                << pod.stats().dropped << " queued " << pod.stats().queue_depth << " of " << per_pod;
            EXPECT_EQ(pod.stats().delivered, calls[static_cast<std::size_t>(i)]->load());
        }
        const auto bs = bus.stats();
        EXPECT_EQ(bs.sent, per_pod);
        std::uint64_t delivered = 0, dropped = 0;
        for (auto& pod : receivers) {
            delivered += pod.stats().delivered;
            dropped += pod.stats().dropped;
        }
        EXPECT_EQ(bs.delivered, delivered);
        EXPECT_EQ(bs.dropped, dropped);
        EXPECT_EQ(delivered + dropped, per_pod * kReceivers);
        if (policy == OverflowPolicy::block) {
            EXPECT_EQ(dropped, 0U);
        }
    }
}

// The worker takes messages from a full mailbox in batches; what it took and
// has not started still counts as waiting. So with four senders blocked on a
// slow pod, what waits never passes the capacity (depth = waiting + the one
// being handled), nothing is lost and each sender's order holds.
TEST(Overflow, BlockBoundsTheMailboxWhileTheWorkerTakesBatchesFromFourSenders) {
    constexpr int kSenders = 4;
    const int per_sender = static_cast<int>(scaled(2000, 200));
    std::atomic<std::uint64_t> deepest{0};
    std::vector<std::vector<int>> seen(kSenders);  // touched by the pod's handler only
    std::atomic<int> handled{0};
    Bus bus = make_bus(OverflowPolicy::block);
    Pod slow = bus.connect();
    slow.on([&](const Message& m) {
        const auto depth = slow.stats().queue_depth;
        if (depth > deepest.load()) deepest.store(depth);
        const auto text = std::string(m.payload_view());
        const auto colon = text.find(':');
        seen[static_cast<std::size_t>(std::stoi(text.substr(0, colon)))].push_back(
            std::stoi(text.substr(colon + 1)));
        const auto until = std::chrono::steady_clock::now() + 20us;  // slower than four senders
        while (std::chrono::steady_clock::now() < until) {}
        ++handled;
    });
    std::vector<Pod> senders;
    for (int s = 0; s < kSenders; ++s) senders.push_back(bus.connect());
    std::vector<std::thread> threads;
    for (int s = 0; s < kSenders; ++s) {
        threads.emplace_back([&, s] {
            for (int i = 0; i < per_sender; ++i) {
                senders[static_cast<std::size_t>(s)].send(
                    Message("t", std::to_string(s) + ":" + std::to_string(i)));
            }
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(eventually([&] { return handled == kSenders * per_sender; }, 60s));
    EXPECT_LE(deepest.load(), kCapacity + 1) << "more waited than the capacity allows";
    EXPECT_GE(deepest.load(), kCapacity / 2)
        << "the mailbox never filled: the test did not exercise the bound";
    for (int s = 0; s < kSenders; ++s) {
        const auto& got = seen[static_cast<std::size_t>(s)];
        ASSERT_EQ(got.size(), static_cast<std::size_t>(per_sender));
        for (int i = 0; i < per_sender; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], i) << "sender " << s;
    }
    EXPECT_EQ(bus.stats().dropped, 0U);
}

TEST(Overflow, StatsShowTheQueueDepth) {
    // State the handlers touch, declared first so it outlives every pod.
    Gate gate;
    Bus bus = make_bus(OverflowPolicy::drop_oldest, 64);
    HeldPod held(bus, gate);
    Pod sender = bus.connect();
    for (int i = 0; i < 20; ++i) sender.send(Message("t"));
    ASSERT_TRUE(eventually([&] { return held.pod.stats().queue_depth >= 19; }));
    EXPECT_GE(bus.stats().queue_depth, 19U);
    EXPECT_EQ(sender.stats().sent, 20U);
    gate.open();
    ASSERT_TRUE(eventually([&] { return held.pod.stats().queue_depth == 0 && held.inbox.size() == 20; }));
}

}  // namespace
}  // namespace grav::test
