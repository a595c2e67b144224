// The transport through its interface, with real sockets on 127.0.0.1 and a
// recording TransportEvents in place of the bus's hub.
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

TEST(ZmqTransport, EndpointIsDialableAndContactMatches) {
    TestNode a("a", [] {
        auto o = fast_options();
        o.bind = "tcp://*:0";
        return o;
    }());
    ASSERT_TRUE(a.start().ok());
    const auto ep = a.transport->endpoint();
    EXPECT_EQ(ep.rfind("tcp://127.0.0.1:", 0), 0u) << ep;
    const Contact c = a.transport->contact();
    EXPECT_EQ(c.host, "127.0.0.1");
    EXPECT_NE(c.direct_port, 0);
    EXPECT_NE(c.fanout_port, 0);
    EXPECT_EQ(ep, "tcp://127.0.0.1:" + std::to_string(c.direct_port));

    TestNode b("b");
    ASSERT_TRUE(b.start().ok());
    join(a, b);
    // The wildcard that a told b became the address a was seen at.
    const auto info = b.events.joined().front();
    EXPECT_EQ(info.name, "a");
    ASSERT_EQ(info.endpoints.size(), 2u);
    EXPECT_EQ(info.endpoints[0], ep);
}

TEST(ZmqTransport, BadArgumentsAreErrorsNotCrashes) {
    TestNode a("a");
    EXPECT_FALSE(a.transport->connect("tcp://127.0.0.1:1").ok());  // not started
    ASSERT_TRUE(a.start().ok());
    EXPECT_FALSE(a.start().ok());
    EXPECT_FALSE(a.transport->connect("udp://x:1").ok());
    EXPECT_FALSE(a.transport->connect("tcp://127.0.0.1").ok());
    EXPECT_FALSE(a.transport->connect("tcp://*:5").ok());
    EXPECT_FALSE(a.transport->connect(Contact{}, NodeId::random()).ok());
    // A null message: counted and refused, not dereferenced.
    a.transport->publish(nullptr);
    Status refused = success();
    a.transport->send_to(NodeId::random(), nullptr, [&](Status s) { refused = std::move(s); });
    EXPECT_FALSE(refused.ok());
    EXPECT_EQ(a.transport->stats().at("zmq.send_failed"), 2u);
    TestNode bad("bad", [] {
        auto o = fast_options();
        o.bind = "tcp://256.1.1.1:0";
        return o;
    }());
    auto started = bad.start();
    ASSERT_FALSE(started.ok());
    EXPECT_NE(started.error().reason().find("cannot bind"), std::string::npos);
}

TEST(ZmqTransport, PublishReachesPeersInOrderAndNeverTheSender) {
    TestNode a("a"), b("b"), c("c");
    ASSERT_TRUE(a.start().ok() && b.start().ok() && c.start().ok());
    join(a, b);
    join(a, c);
    join(b, c);
    const int n = 1000;
    for (int i = 0; i < n; ++i) a.transport->publish(make("t.x", std::to_string(i), a.id()));
    for (int i = 0; i < n; ++i) c.transport->publish(make("t.y", std::to_string(i), c.id()));
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == 2u * n; }, 10s))
        << b.events.message_count();
    ASSERT_TRUE(eventually([&] { return a.events.message_count() == 1u * n; }, 10s));
    int next_a = 0, next_c = 0;
    for (const auto& r : b.events.messages()) {
        if (r.from == a.id()) {
            EXPECT_EQ(r.message->payload_view(), std::to_string(next_a++));
            EXPECT_EQ(r.message->origin(), a.id());
        } else {
            ASSERT_EQ(r.from, c.id());
            EXPECT_EQ(r.message->payload_view(), std::to_string(next_c++));
        }
    }
    for (const auto& r : a.events.messages()) EXPECT_EQ(r.from, c.id());  // never its own
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(b.events.message_count(), 2u * n);  // never twice
    const auto stats = b.transport->stats();
    EXPECT_EQ(stats.at("zmq.gaps"), 0u);
    EXPECT_EQ(stats.at("zmq.duplicates"), 0u);
    EXPECT_EQ(stats.at("zmq.messages_received"), 2u * n);
}

TEST(ZmqTransport, ABurstOfPublishesTravelsBatchedAndArrivesInOrder) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    // A burst queues faster than the transport thread sends, so runs of the
    // same type leave as batches; other types in between break the runs.
    const int n = static_cast<int>(grav::test::scaled(20000, 2000));
    for (int i = 0; i < n; ++i) {
        a.transport->publish(make(i % 100 == 99 ? "t.other" : "t.burst", std::to_string(i), a.id()));
    }
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == static_cast<std::size_t>(n); }, 30s))
        << b.events.message_count() << " of " << n;
    int i = 0;
    for (const auto& r : b.events.messages()) {
        ASSERT_EQ(r.message->payload_view(), std::to_string(i));
        ASSERT_EQ(r.message->type(), i % 100 == 99 ? "t.other" : "t.burst");
        ++i;
    }
    const auto sa = a.transport->stats();
    const auto sb = b.transport->stats();
    EXPECT_EQ(sa.at("zmq.published"), static_cast<std::uint64_t>(n));
    EXPECT_LT(sa.at("zmq.batches_sent"), sa.at("zmq.published") / 2) << "the burst was not batched";
    EXPECT_GE(sa.at("zmq.batches_sent"), static_cast<std::uint64_t>(n / 100));  // one per run at least
    EXPECT_EQ(sb.at("zmq.messages_received"), static_cast<std::uint64_t>(n));
    EXPECT_EQ(sb.at("zmq.gaps"), 0u);
    EXPECT_EQ(sb.at("zmq.duplicates"), 0u);
    EXPECT_EQ(sb.at("zmq.malformed"), 0u);
}

// Large messages among small ones: a record larger than a batch travels
// alone (and its frame goes to libzmq without a copy), the small ones
// around it still batch, and every payload arrives whole and in order.
TEST(ZmqTransport, LargePublishesArriveWholeAmongSmallOnes) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    const auto payload = [](int i) {
        const std::size_t size = i % 50 == 7 ? (std::size_t{1} << 20) + static_cast<std::size_t>(i) : 32;
        std::string p(size, static_cast<char>('a' + i % 26));
        p.replace(0, std::to_string(i).size(), std::to_string(i));
        return p;
    };
    const int n = 500;
    for (int i = 0; i < n; ++i) a.transport->publish(make("t.large", payload(i), a.id()));
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == static_cast<std::size_t>(n); }, 30s))
        << b.events.message_count() << " of " << n;
    int i = 0;
    for (const auto& r : b.events.messages()) {
        ASSERT_EQ(r.message->payload_view(), payload(i)) << "message " << i;
        ++i;
    }
    const auto sa = a.transport->stats();
    EXPECT_LT(sa.at("zmq.batches_sent"), static_cast<std::uint64_t>(n)) << "the small ones were not batched";
    EXPECT_EQ(b.transport->stats().at("zmq.gaps"), 0u);
}

TEST(ZmqTransport, NothingPublishedAfterJoinIsLost) {
    // The slow-joiner gap: publish the moment the join is reported.
    for (int round = 0; round < 5; ++round) {
        TestNode a("a"), b("b");
        ASSERT_TRUE(a.start().ok() && b.start().ok());
        ASSERT_TRUE(b.transport->connect(a.transport->endpoint()).ok());
        ASSERT_TRUE(eventually([&] { return a.events.has_joined(b.id()); }, 10s));
        for (int i = 0; i < 100; ++i) a.transport->publish(make("t", std::to_string(i), a.id()));
        ASSERT_TRUE(eventually([&] { return b.events.message_count() == 100; }, 10s))
            << "round " << round << ": " << b.events.message_count();
        // And the other way round, from the side that dialled.
        ASSERT_TRUE(eventually([&] { return b.events.has_joined(a.id()); }, 10s));
        for (int i = 0; i < 100; ++i) b.transport->publish(make("t", std::to_string(i), b.id()));
        ASSERT_TRUE(eventually([&] { return a.events.message_count() == 100; }, 10s));
    }
}

TEST(ZmqTransport, TypesNoPodWantsNeverCrossTheWire) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    b.transport->subscribe({"wanted."});
    join(a, b);
    for (int i = 0; i < 200; ++i) a.transport->publish(make("unwanted.x", std::string(100, 'u'), a.id()));
    for (int i = 0; i < 10; ++i) a.transport->publish(make("wanted.x", "w", a.id()));
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == 10; }, 10s));
    std::this_thread::sleep_for(100ms);
    for (const auto& r : b.events.messages()) EXPECT_EQ(r.message->type(), "wanted.x");
    // Only the wanted bytes arrived: 10 records (84-byte fields + payload 1)
    // in 1 to 10 batches of (type 8 + 6-byte prefix); one unwanted record
    // alone would add more than 100 bytes.
    const auto bytes = b.transport->stats().at("zmq.bytes_received");
    EXPECT_GE(bytes, 10u * (84 + 1) + 1 * (8 + 6));
    EXPECT_LE(bytes, 10u * (84 + 1) + 10 * (8 + 6));
    EXPECT_EQ(a.transport->stats().at("zmq.published"), 210u);

    // Widening the subscription later reaches the publisher too.
    b.transport->subscribe({"wanted.", "unwanted."});
    ASSERT_TRUE(eventually(
        [&] {
            a.transport->publish(make("unwanted.x", "probe", a.id()));
            std::this_thread::sleep_for(20ms);
            return b.events.message_count() > 10;
        },
        5s));
}

TEST(ZmqTransport, SendToReachesOnlyThatPeer) {
    TestNode a("a"), b("b"), c("c");
    ASSERT_TRUE(a.start().ok() && b.start().ok() && c.start().ok());
    join(a, b);
    join(a, c);
    std::atomic<int> ok{0}, failed{0};
    std::string failure;
    std::mutex m;
    for (int i = 0; i < 50; ++i) {
        a.transport->send_to(b.id(), make("rpc.reply", std::to_string(i), a.id()), [&](Status s) {
            if (s)
                ++ok;
            else
                ++failed;
        });
    }
    a.transport->send_to(NodeId::random(), make("rpc.reply", "x", a.id()), [&](Status s) {
        std::lock_guard lock(m);
        failure = s ? "ok" : s.error().what();
        if (!s) {
            EXPECT_EQ(s.error().code(), Errc::no_peer);
        }
    });
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == 50 && ok == 50; }, 10s));
    ASSERT_TRUE(eventually(
        [&] {
            std::lock_guard lock(m);
            return !failure.empty();
        },
        2s));
    EXPECT_EQ(failed, 0);
    int i = 0;
    for (const auto& r : b.events.messages()) EXPECT_EQ(r.message->payload_view(), std::to_string(i++));
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(c.events.message_count(), 0u);
    EXPECT_EQ(b.transport->stats().at("zmq.direct_received"), 50u);
}

TEST(ZmqTransport, OtherGroupIsRefusedWithAReasonOnBothSides) {
    TestNode a("a", fast_options(), "lab"), b("b", fast_options(), "prod");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    ASSERT_TRUE(b.transport->connect(a.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return !b.events.refused().empty() && !a.events.refused().empty(); }, 10s));
    EXPECT_NE(b.events.refused().front().reason.find("group 'prod'"), std::string::npos)
        << b.events.refused().front().reason;
    EXPECT_EQ(b.events.refused().front().endpoint, a.transport->endpoint());
    EXPECT_NE(a.events.refused().front().reason.find("group"), std::string::npos);
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(a.events.joined().empty());
    EXPECT_TRUE(b.events.joined().empty());
    EXPECT_GE(a.transport->stats().at("zmq.refused"), 1u);
    EXPECT_GE(b.transport->stats().at("zmq.refused"), 1u);
}

TEST(ZmqTransport, AdmitDecidesAndItsReasonTravels) {
    TestNode a("a"), b("b");
    a.events.admit_fn = [](const PeerInfo& p) -> Status {
        return Error(Errc::rejected, "no room for " + p.name);
    };
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    ASSERT_TRUE(b.transport->connect(a.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return !b.events.refused().empty(); }, 10s));
    EXPECT_EQ(b.events.refused().front().reason, "no room for b");
    EXPECT_TRUE(a.events.joined().empty());
}

TEST(ZmqTransport, SimultaneousDialsEndAsOneLink) {
    for (int round = 0; round < 3; ++round) {
        TestNode a("a"), b("b");
        ASSERT_TRUE(a.start().ok() && b.start().ok());
        std::thread t([&] { (void)a.transport->connect(b.transport->endpoint()); });
        (void)b.transport->connect(a.transport->endpoint());
        t.join();
        ASSERT_TRUE(
            eventually([&] { return a.events.has_joined(b.id()) && b.events.has_joined(a.id()); }, 10s));
        // Also by contact, as discovery would, on top of the manual dial.
        ASSERT_TRUE(a.transport->connect(b.transport->contact(), b.id()).ok());
        std::this_thread::sleep_for(300ms);
        EXPECT_EQ(a.events.joined().size(), 1u);
        EXPECT_EQ(b.events.joined().size(), 1u);
        EXPECT_TRUE(a.events.left().empty());
        a.transport->publish(make("t", "once", a.id()));
        ASSERT_TRUE(eventually([&] { return b.events.message_count() == 1; }, 5s));
        std::this_thread::sleep_for(100ms);
        EXPECT_EQ(b.events.message_count(), 1u);
    }
}

TEST(ZmqTransport, DiallingByContactFindsTheNodeThatIsReallyThere) {
    // Discovery's view can be stale: the node at that contact restarted with a new id.
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    ASSERT_TRUE(a.transport->connect(b.transport->contact(), NodeId::random()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.has_joined(b.id()) && b.events.has_joined(a.id()); }, 10s));
    std::this_thread::sleep_for(2s);  // past the handshake timeout of the stale expectation
    EXPECT_TRUE(a.events.refused().empty());
    EXPECT_EQ(a.events.joined().size(), 1u);
    EXPECT_TRUE(a.events.left().empty());
    EXPECT_TRUE(a.transport->alive(b.id()));
}

TEST(ZmqTransport, StopSaysGoodbyeAtOnce) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    // Published right before stop: still delivered, before the goodbye.
    for (int i = 0; i < 100; ++i) b.transport->publish(make("t", std::to_string(i), b.id()));
    const auto t0 = std::chrono::steady_clock::now();
    b.transport->stop();
    ASSERT_TRUE(eventually([&] { return a.events.has_left(b.id()); }, 5s));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 900ms);  // well before the 1 s heartbeat timeout
    EXPECT_EQ(a.events.left().front().reason, LeaveReason::withdrew);
    EXPECT_EQ(a.events.message_count(), 100u);
    EXPECT_FALSE(a.transport->alive(b.id()));
    // The stopped side reported its own peers gone, and refuses new work.
    ASSERT_EQ(b.events.left().size(), 1u);
    EXPECT_EQ(b.events.left().front().reason, LeaveReason::local_stop);
    std::string status;
    b.transport->send_to(a.id(), make("t", "late", b.id()),
                         [&](Status s) { status = s ? "ok" : s.error().what(); });
    EXPECT_EQ(status.rfind("closed", 0), 0u) << status;
}

TEST(ZmqTransport, AliveFollowsTheLink) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    EXPECT_FALSE(a.transport->alive(b.id()));
    join(a, b);
    EXPECT_TRUE(a.transport->alive(b.id()));
    a.transport->drop(b.id());
    ASSERT_TRUE(eventually([&] { return !a.transport->alive(b.id()); }, 5s));
}

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
