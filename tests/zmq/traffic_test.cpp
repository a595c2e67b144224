// Per-peer traffic and health (Bus::peer_traffic, Transport::traffic): two
// real buses on 127.0.0.1 trade known counts of messages each way, then each
// one's entry for the other shows those counts, bytes, a recent last sign of
// life and a round trip that PINGs keep fresh.
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <grav/grav.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;

BusOptions bus_options(std::chrono::milliseconds ping_interval) {
    auto o = fast_options();
    o.ping_interval = ping_interval;
    BusOptions b;
    b.transport = zmq::transport(std::move(o));
    return b;
}

std::optional<PeerTraffic> traffic_to(const Bus& bus, const NodeId& peer) {
    for (const auto& t : bus.peer_traffic())
        if (t.peer == peer) return t;
    return std::nullopt;
}

TEST(PeerTraffic, CountsEachWayPerPeerWithLastSeenAndRoundTrip) {
    Bus a(bus_options(50ms)), b(bus_options(50ms));
    ASSERT_TRUE(b.connect_endpoint(a.endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.peers().size() == 1 && b.peers().size() == 1; }, 10s));
    const NodeId a_id = a.node_id();
    const NodeId b_id = b.node_id();

    // Each bus answers "t.ping" (a reply goes point to point to the asker)
    // and asks the other: a request is published (fan-out).
    Pod echo_a = a.connect();
    Pod echo_b = b.connect();
    for (Pod* echo : {&echo_a, &echo_b}) {
        ASSERT_TRUE(echo->on_type("t.ping",
                                  [echo](const Message& m) {
                                      echo->reply_to(m, Message("t.pong", std::string(200, 'r')));
                                  })
                        .ok());
    }
    Pod caller_a = a.connect();
    Pod caller_b = b.connect();
    // Until each side's wishes are known at the other: probes, in the baseline.
    for (Pod* caller : {&caller_a, &caller_b}) {
        ASSERT_TRUE(
            eventually([&] { return caller->send(Message("t.ping", "probe")).wait_until(200ms).ok(); }, 10s));
    }
    std::this_thread::sleep_for(300ms);  // stray probes and their replies land first
    const auto a0 = traffic_to(a, b_id);
    const auto b0 = traffic_to(b, a_id);
    ASSERT_TRUE(a0 && b0);

    constexpr std::uint64_t n = 40;
    for (std::uint64_t i = 0; i < n; ++i) {
        for (Pod* caller : {&caller_a, &caller_b}) {
            auto reply = caller->send(Message("t.ping", std::string(100, 'q'))).wait_until(10s);
            ASSERT_TRUE(reply.ok()) << reply.error().what();
        }
    }
    // Each side took the other's n requests and n replies. (A reply is
    // counted sent once libzmq took it, which may be just after its asker
    // got it: waited for too.)
    std::optional<PeerTraffic> a1, b1;
    ASSERT_TRUE(eventually(
        [&] {
            a1 = traffic_to(a, b_id);
            b1 = traffic_to(b, a_id);
            return a1 && b1 && a1->messages_received - a0->messages_received == 2 * n &&
                   b1->messages_received - b0->messages_received == 2 * n &&
                   a1->messages_sent - a0->messages_sent >= n && b1->messages_sent - b0->messages_sent >= n;
        },
        5s));
    for (const auto& [t0, t1] : {std::pair{*a0, *a1}, std::pair{*b0, *b1}}) {
        // Sent to the peer: its n replies, point to point (a publish is not
        // attributed to a peer; its receiver counts it).
        EXPECT_EQ(t1.messages_sent - t0.messages_sent, n);
        EXPECT_GT(t1.bytes_sent - t0.bytes_sent, n * 200);
        EXPECT_EQ(t1.messages_received - t0.messages_received, 2 * n);
        EXPECT_GT(t1.bytes_received - t0.bytes_received, n * 300);
        EXPECT_EQ(t1.lost, 0u);
        EXPECT_EQ(t1.resent, 0u);
    }

    // Alive and measured: last seen within a few heartbeats, a round trip
    // from the handshake at once, refreshed by PINGs (values that change).
    for (const auto& t : {*a1, *b1}) {
        ASSERT_TRUE(t.last_seen.has_value());
        const auto age = std::chrono::system_clock::now() - *t.last_seen;
        EXPECT_LT(age, 5s);
        EXPECT_GT(age, -1s);
        ASSERT_TRUE(t.rtt.has_value());
        EXPECT_GT(t.rtt->count(), 0);
        EXPECT_LT(*t.rtt, 1s);
    }
    std::set<std::int64_t> rtts;
    ASSERT_TRUE(eventually(
        [&] {
            if (auto t = traffic_to(a, b_id); t && t->rtt) rtts.insert(t->rtt->count());
            return rtts.size() >= 3;
        },
        5s))
        << "the round trip was not measured again";
    // Idle: PINGs and PONGs are no data, so the counts stand still.
    const auto a2 = traffic_to(a, b_id);
    ASSERT_TRUE(a2);
    EXPECT_EQ(a2->messages_sent, a1->messages_sent);
    EXPECT_EQ(a2->messages_received, a1->messages_received);
}

TEST(PeerTraffic, NoPingsMeansTheHandshakeRoundTripStays) {
    Bus a(bus_options(0ms)), b(bus_options(0ms));
    ASSERT_TRUE(b.connect_endpoint(a.endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.peers().size() == 1 && b.peers().size() == 1; }, 10s));
    const auto first = traffic_to(a, b.node_id());
    ASSERT_TRUE(first && first->rtt);
    std::this_thread::sleep_for(500ms);
    const auto later = traffic_to(a, b.node_id());
    ASSERT_TRUE(later && later->rtt);
    EXPECT_EQ(*later->rtt, *first->rtt);
}

TEST(PeerTraffic, ALeftPeerHasNoEntry) {
    Bus a(bus_options(50ms));
    {
        Bus b(bus_options(50ms));
        ASSERT_TRUE(b.connect_endpoint(a.endpoint()).ok());
        ASSERT_TRUE(eventually([&] { return a.peer_traffic().size() == 1 && a.peers().size() == 1; }, 10s));
    }
    EXPECT_TRUE(eventually([&] { return a.peer_traffic().empty(); }, 10s));
}

// grav.sys.stats: a asks b (and a node that is no peer); b answers its own
// counters, which a pod of b's counted; no pod anywhere sees the exchange.
TEST(NodeStats, APeerAnswersItsCountersAndNoPodSeesTheExchange) {
    Bus a(bus_options(50ms)), b(bus_options(50ms));
    ASSERT_TRUE(b.connect_endpoint(a.endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.peers().size() == 1 && b.peers().size() == 1; }, 10s));
    std::atomic<int> system_seen{0};
    Pod watcher_a = a.connect();
    Pod watcher_b = b.connect();
    for (Pod* w : {&watcher_a, &watcher_b}) {
        ASSERT_TRUE(w->on_type("grav.*", [&](const Message&) { ++system_seen; }).ok());
        ASSERT_TRUE(w->on_type("grav.sys.*", [&](const Message&) { ++system_seen; }).ok());
    }
    Pod sender = b.connect();
    constexpr std::uint64_t n = 17;
    for (std::uint64_t i = 0; i < n; ++i) (void)sender.send(Message("t.local", "x"));
    // A pod may not send a grav.sys. type: refused with the reason, not sent.
    auto refused = sender.send(Message("grav.sys.stats", "")).wait_until(1s);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), Errc::invalid_argument);
    EXPECT_TRUE(refused.error().reason().find("reserved") != std::string::npos) << refused.error().what();

    const NodeId stranger = NodeId::random();
    auto answers = a.node_stats({b.node_id(), stranger}, 5s);
    ASSERT_EQ(answers.size(), 2u);
    ASSERT_TRUE(answers[0].ok()) << answers[0].error().what();
    const NodeReport& r = *answers[0];
    EXPECT_EQ(r.node, b.node_id());
    EXPECT_EQ(r.name, b.name());
    EXPECT_EQ(r.stats.sent, n);
    EXPECT_EQ(r.stats.peers, 1u);
    EXPECT_EQ(r.stats.pods, 2u);
    EXPECT_TRUE(r.stats.network.contains("zmq.messages_received"));
    ASSERT_EQ(r.peers.size(), 1u);
    EXPECT_EQ(r.peers[0].peer, a.node_id());
    EXPECT_TRUE(r.peers[0].rtt.has_value());
    ASSERT_FALSE(answers[1].ok());
    EXPECT_EQ(answers[1].error().code(), Errc::no_peer);
    // Asked again: fresh counters, not a cached answer.
    (void)sender.send(Message("t.local", "x"));
    auto again = a.node_stats({b.node_id()}, 5s);
    ASSERT_TRUE(again[0].ok());
    EXPECT_EQ(again[0]->stats.sent, n + 1);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(system_seen.load(), 0);
}

// A peer that does not know grav.sys.stats (here a bare transport, as an
// older node) stays silent: reported as a timeout after the deadline, and
// the asker goes on.
TEST(NodeStats, APeerThatDoesNotAnswerIsATimeout) {
    Bus a(bus_options(50ms));
    TestNode quiet("quiet");
    ASSERT_TRUE(quiet.start().ok());
    ASSERT_TRUE(a.connect_endpoint(quiet.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.peers().size() == 1; }, 10s));
    const auto start = std::chrono::steady_clock::now();
    auto answers = a.node_stats({quiet.id()}, 300ms);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 3s);
    ASSERT_EQ(answers.size(), 1u);
    ASSERT_FALSE(answers[0].ok());
    EXPECT_EQ(answers[0].error().code(), Errc::timeout);
    // It did get the request (as a message for its bus to judge).
    EXPECT_TRUE(eventually([&] { return quiet.events.message_count() == 1; }, 5s));
}

}  // namespace
}  // namespace grav::ztest
