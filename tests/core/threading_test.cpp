// Threading as docs/ARCHITECTURE.md says: many pods on a small pool, a slow pod does
// not slow the others, handlers never run concurrently with themselves, and
// sends from inside handlers never deadlock.
#include <grav/grav.hpp>

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>

namespace grav::test {
namespace {

TEST(Threading, TenThousandPodsEachGetEveryMessage) {
    Bus bus;
    const std::size_t pods = scaled(10000, 200);
    constexpr int kMessages = 10;
    std::vector<std::atomic<int>> counts(pods);
    std::vector<Pod> receivers;
    receivers.reserve(pods);
    for (std::size_t i = 0; i < pods; ++i) {
        receivers.push_back(bus.connect());
        receivers.back().on([c = &counts[i]](const Message&) { c->fetch_add(1, std::memory_order_relaxed); });
    }
    EXPECT_EQ(bus.stats().pods, pods);
    Pod sender = bus.connect();
    for (int i = 0; i < kMessages; ++i) sender.send(Message("all"));
    ASSERT_TRUE(eventually([&] { return bus.stats().delivered >= pods * kMessages; }, 60s))
        << bus.stats().delivered << " of " << pods * kMessages;
    for (std::size_t i = 0; i < pods; ++i) ASSERT_EQ(counts[i].load(), kMessages) << "pod " << i;
    receivers.clear();
    EXPECT_EQ(bus.stats().pods, 1U);
}

TEST(Threading, ASlowPodDoesNotSlowTheOthers) {
    // State the handlers touch, declared first so it outlives every pod.
    Gate gate;
    std::atomic<int> slow_calls{0};
    std::vector<std::unique_ptr<std::atomic<int>>> counts;
    BusOptions options;
    options.workers = 2;
    Bus bus(std::move(options));
    Pod slow = bus.connect();
    slow.on([&](const Message&) {
        gate.wait(20s);
        ++slow_calls;
    });
    std::vector<Pod> fast;
    for (int i = 0; i < 3; ++i) {
        fast.push_back(bus.connect());
        counts.push_back(std::make_unique<std::atomic<int>>(0));
        fast.back().on([c = counts.back().get()](const Message&) { ++*c; });
    }
    Pod sender = bus.connect();
    constexpr int kMessages = 1000;  // well below the mailbox capacity: no backpressure
    for (int i = 0; i < kMessages; ++i) sender.send(Message("t"));
    const bool fast_done = eventually(
        [&] { return std::all_of(counts.begin(), counts.end(), [](auto& c) { return *c == kMessages; }); },
        10s);
    const int slow_meanwhile = slow_calls;
    gate.open();
    EXPECT_TRUE(fast_done) << "fast pods stalled behind a blocked pod";
    EXPECT_EQ(slow_meanwhile, 0);
    ASSERT_TRUE(eventually([&] { return slow_calls == kMessages; }, 20s));
}

// 1,000,000 messages from 4 sending threads: every receiving pod sees each
// sender's messages in order, none lost, none duplicated, never two of its
// handler calls at once.
TEST(Threading, OrderPerPodUnderAMillionMessagesFromFourThreads) {
    Bus bus;
    constexpr int kSenders = 4;
    constexpr int kReceivers = 2;
    const std::uint32_t per_sender = static_cast<std::uint32_t>(scaled(250000, 2000));

    struct Check {
        std::array<std::uint32_t, kSenders> next{};
        std::atomic<std::uint64_t> received{0};
        std::atomic<std::uint64_t> out_of_order{0};
        std::atomic<int> inside{0};
        std::atomic<std::uint64_t> concurrent{0};
    };
    std::array<Check, kReceivers> checks;
    std::vector<Pod> receivers;
    for (int r = 0; r < kReceivers; ++r) {
        receivers.push_back(bus.connect());
        const Status receiver_handler =
            receivers.back().on_type("order", [c = &checks[static_cast<std::size_t>(r)]](const Message& m) {
                if (c->inside.fetch_add(1) != 0) ++c->concurrent;
                std::uint32_t who = 0, seq = 0;
                std::memcpy(&who, m.payload_view().data(), 4);
                std::memcpy(&seq, m.payload_view().data() + 4, 4);
                // Plain (non-atomic) state: a data race here shows under TSan if
                // the bus ever runs one pod's handler on two threads at once.
                if (seq != c->next[who]) ++c->out_of_order;
                c->next[who] = seq + 1;
                c->received.fetch_add(1, std::memory_order_release);  // publishes `next` to the checker
                c->inside.fetch_sub(1);
            });
        ASSERT_TRUE(receiver_handler.ok()) << receiver_handler.error().what();
    }
    std::vector<Pod> senders;
    for (int s = 0; s < kSenders; ++s) {
        senders.push_back(bus.connect());
        ASSERT_TRUE(senders.back().on_type("order.none", [](const Message&) {}).ok());
    }
    std::vector<std::thread> threads;
    for (std::uint32_t s = 0; s < kSenders; ++s) {
        threads.emplace_back([&, s] {
            char buf[8];
            std::memcpy(buf, &s, 4);
            for (std::uint32_t i = 0; i < per_sender; ++i) {
                std::memcpy(buf + 4, &i, 4);
                senders[s].send(Message("order", std::string_view(buf, 8)));
            }
        });
    }
    for (auto& t : threads) t.join();
    const std::uint64_t total = std::uint64_t{per_sender} * kSenders;
    for (auto& c : checks) {
        ASSERT_TRUE(eventually([&] { return c.received.load() >= total; }, 60s))
            << c.received.load() << " of " << total;
    }
    std::this_thread::sleep_for(20ms);
    for (auto& c : checks) {
        EXPECT_EQ(c.received.load(), total) << "duplicates";
        EXPECT_EQ(c.out_of_order.load(), 0U);
        EXPECT_EQ(c.concurrent.load(), 0U) << "a pod's handler ran concurrently with itself";
        for (int s = 0; s < kSenders; ++s) EXPECT_EQ(c.next[static_cast<std::size_t>(s)], per_sender);
    }
    EXPECT_EQ(bus.stats().dropped, 0U);
}

// Two pods answer each other through mailboxes of one message under the
// blocking policy: a send from a handler must not wait for room that only
// that handler's own worker could make.
TEST(Threading, PingPongWithTinyMailboxesUnderBlockNeverDeadlocks) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> pongs{0};
    BusOptions options;
    options.mailbox_capacity = 1;
    options.overflow = OverflowPolicy::block;
    options.workers = 2;
    Bus bus(std::move(options));
    const int rounds = static_cast<int>(scaled(10000, 500));
    Pod a = bus.connect();
    Pod b = bus.connect();
    const Status a_handler = a.on_type("pong", [&](const Message&) {
        if (++pongs < rounds) a.send(Message("ping"));
    });
    ASSERT_TRUE(a_handler.ok()) << a_handler.error().what();
    ASSERT_TRUE(b.on_type("ping", [&](const Message&) { b.send(Message("pong")); }).ok());
    Pod kicker = bus.connect();
    // Several balls in play at once, so mailboxes really are full.
    for (int i = 0; i < 4; ++i) kicker.send(Message("ping"));
    ASSERT_TRUE(eventually([&] { return pongs >= rounds; }, 30s)) << "stuck at " << pongs << " of " << rounds;
}

// Every handler sends to all the others, three hops deep, through mailboxes
// of two on two workers: 3,200 handler calls, no deadlock, nothing silently lost.
TEST(Threading, SendStormsFromHandlersNeverDeadlock) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<std::uint64_t> handled{0};
    BusOptions options;
    options.mailbox_capacity = 2;
    options.workers = 2;
    Bus bus(std::move(options));
    constexpr int kPods = 8;
    std::vector<Pod> pods;
    pods.reserve(kPods);
    for (int i = 0; i < kPods; ++i) pods.push_back(bus.connect());
    for (auto& pod : pods) {
        const Status pod_handler = pod.on_type("storm", [&handled, p = &pod](const Message& m) {
            ++handled;
            const int hop = m.payload_view()[0] - '0';
            if (hop < 3) p->send(Message("storm", std::to_string(hop + 1)));
        });
        ASSERT_TRUE(pod_handler.ok()) << pod_handler.error().what();
    }
    Pod kicker = bus.connect();
    kicker.send(Message("storm", "0"));
    constexpr std::uint64_t kExpected = 8 + 8 * 7 + 56 * 7 + 392 * 7;
    ASSERT_TRUE(eventually([&] { return handled + bus.stats().dropped >= kExpected; }, 30s))
        << handled << " handled, " << bus.stats().dropped << " dropped of " << kExpected;
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(handled + bus.stats().dropped, kExpected);
}

// A handler that blocks on the reply to a request of its own (a nested
// request) does not deadlock the pool while another worker is free.
TEST(Threading, AHandlerMayWaitForAReplyFromAnotherPod) {
    BusOptions options;
    options.workers = 2;
    Bus bus(std::move(options));
    Pod backend = bus.connect();
    const Status backend_handler = backend.on_type(
        "inner", [&](const Message& m) { backend.reply_to(m, Message("inner.reply", "deep")); });
    ASSERT_TRUE(backend_handler.ok()) << backend_handler.error().what();
    Pod middle = bus.connect();
    const Status middle_handler = middle.on_type("outer", [&](const Message& m) {
        auto inner = middle.send(Message("inner")).wait_until(5s);
        middle.reply_to(m, Message("outer.reply", inner ? std::string(inner->payload_view()) : "timeout"));
    });
    ASSERT_TRUE(middle_handler.ok()) << middle_handler.error().what();
    Pod client = bus.connect();
    auto reply = client.send(Message("outer")).wait_until(10s);
    ASSERT_TRUE(reply.ok()) << reply.error().what();
    EXPECT_EQ(reply->payload_view(), "deep") << "a handler waiting for a reply starved the pool";
}

TEST(Threading, ATrickleOfMessagesCostsLittleCpu) {
    // Workers spin briefly before they sleep, which pays in a burst. On a
    // trickle a full spin (2048 rounds with 32 sched_yield calls) after every
    // message is waste, so the spin adapts: it shrinks after each sleep that
    // outlasted it (the CPU of these 200 messages with and without that:
    // docs/BENCHMARKS.md, Core bus). The budget, 150 us a message, leaves
    // room for other tests running beside it and grows with the sanitizers'
    // slowdown.
    std::atomic<int> received{0};
    BusOptions options;
    options.workers = 2;
    Bus bus(std::move(options));
    Pod receiver = bus.connect();
    receiver.on([&](const Message&) { received.fetch_add(1, std::memory_order_relaxed); });
    Pod sender = bus.connect();
    for (int i = 0; i < 20; ++i) sender.send(Message("warm-up"));
    ASSERT_TRUE(eventually([&] { return received.load() == 20; }));
    std::this_thread::sleep_for(20ms);
    constexpr int kMessages = 200;
    const auto cpu_before = process_cpu_time();
    for (int i = 0; i < kMessages; ++i) {
        sender.send(Message("trickle"));
        std::this_thread::sleep_for(2ms);
    }
    const auto cpu = process_cpu_time() - cpu_before;
    ASSERT_TRUE(eventually([&] { return received.load() == 20 + kMessages; }));
    const auto budget = std::chrono::microseconds(static_cast<long>(30000 / test_scale()));
    EXPECT_LT(cpu, budget) << kMessages << " messages, 2 ms apart, cost " << cpu.count() << " us of CPU";
}
}  // namespace
}  // namespace grav::test
