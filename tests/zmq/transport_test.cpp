// The transport's delivery through its interface, with real sockets on
// 127.0.0.1 and a recording TransportEvents in place of the bus's hub:
// endpoints, bad arguments, publish and send_to (links: transport_link_test.cpp).
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;

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

}  // namespace
}  // namespace grav::ztest
