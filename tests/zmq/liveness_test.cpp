// Liveness of a peer (issue 3): it comes from the DEALER/ROUTER link, so a
// subscriber that stalls is never taken for a dead peer, while a dead or
// frozen one is still noticed within the heartbeat timeout. Real sockets on
// 127.0.0.1, a recording TransportEvents in place of the bus's hub.
#include "child_process.hpp"
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;

TEST(ZmqLiveness, ASubscriberStalledTwiceTheHeartbeatTimeoutLosesNothingAndStaysJoined) {
    // Small high-water marks: B's SUB pipe is full within the first messages,
    // so libzmq stops reading that connection for the whole stall.
    auto options = fast_options();
    options.send_hwm = 100;
    options.recv_hwm = 100;
    TestNode a("a", options), b("b", options);
    const auto stall = 2 * options.heartbeat_timeout;
    std::atomic<bool> stalled{false};
    std::atomic<std::int64_t> stall_ends{0};
    // After the first delivery there is no room for a while, as when a
    // pod's mailbox is full and its handler is stuck.
    b.events.on_message_fn = [&](const Message&) {
        if (!stalled.exchange(true))
            stall_ends = (std::chrono::steady_clock::now() + stall).time_since_epoch().count();
    };
    b.events.has_room_fn = [&] { return std::chrono::steady_clock::now().time_since_epoch().count() >= stall_ends; };
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    const int n = static_cast<int>(grav::test::scaled(5000, 2000));
    const std::string filler(256, 'x');
    for (int i = 0; i < n; ++i) a.transport->publish(make("t", std::to_string(i) + " " + filler, a.id()));
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == static_cast<std::size_t>(n); }, 30s))
        << b.events.message_count() << " of " << n;
    EXPECT_TRUE(stalled.load());
    int i = 0;
    for (const auto& r : b.events.messages()) {
        ASSERT_EQ(r.message->payload_view(), std::to_string(i++) + " " + filler);
    }
    EXPECT_TRUE(a.events.left().empty()) << "a reported b left: " << a.events.left().front().detail;
    EXPECT_TRUE(b.events.left().empty()) << "b reported a left: " << b.events.left().front().detail;
    EXPECT_TRUE(a.transport->alive(b.id()));
    EXPECT_TRUE(b.transport->alive(a.id()));
    EXPECT_EQ(b.transport->stats().at("zmq.gaps"), 0u);
    EXPECT_EQ(a.events.joined().size(), 1u);  // never re-joined either
    EXPECT_EQ(b.events.joined().size(), 1u);
}

TEST(ZmqLiveness, AKilledPeerIsNotAliveFromTheMomentItsLinkDrops) {
    // alive() answers discovery's "is this silent peer still there?": it must
    // turn false when the link drops, not only once the peer is reported
    // left after the goodbye grace.
    TestNode a("a");
    ASSERT_TRUE(a.start().ok());
    testkit::ChildProcess b(
        {GRAV_BUS_NODE, "--name", "B", "--connect", a.transport->endpoint(), "--peers", "1"});
    ASSERT_TRUE(b.wait_for_prefix("ready", 10s));
    auto id_line = b.wait_for_prefix("id ", 5s);
    ASSERT_TRUE(id_line);
    const auto b_id = NodeId::parse(id_line->substr(3));
    ASSERT_TRUE(b_id);
    ASSERT_TRUE(eventually([&] { return a.transport->alive(*b_id); }, 5s));
    const auto killed = std::chrono::steady_clock::now();
    b.signal(SIGKILL);
    // Watch closely: alive() must be false while the peer is not yet reported left.
    bool seen_dead_before_left = false;
    while (std::chrono::steady_clock::now() - killed < 5s && !a.events.has_left(*b_id)) {
        if (!a.transport->alive(*b_id) && !a.events.has_left(*b_id)) {
            seen_dead_before_left = true;
            break;
        }
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_TRUE(seen_dead_before_left) << "alive() stayed true until the peer was reported left";
    ASSERT_TRUE(eventually([&] { return a.events.has_left(*b_id); }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - killed, fast_options().heartbeat_timeout + 500ms);
    EXPECT_FALSE(a.transport->alive(*b_id));
}

// Issue 21.0: a subscriber in another process whose pod stalls (its mailbox
// full, the SUB's receive pipe full, libzmq no longer reading that
// connection) while its publisher stops and goes away. libzmq 4.3.4 aborted
// it ("Assertion failed: !_io_error (stream_engine_base.cpp:331)") at the
// SUB's next ZMTP heartbeat after the connection had failed. It must live on
// and stop normally.
TEST(ZmqLiveness, AStalledSubscriberSurvivesItsPublisherLeaving) {
    auto a = std::make_unique<TestNode>("a");
    ASSERT_TRUE(a->start().ok());
    testkit::ChildProcess b({GRAV_BUS_NODE, "--name", "B", "--connect", a->transport->endpoint(), "--peers", "1",
                             "--stall-ms", "4000", "--recv-hwm", "4", "--mailbox", "16"});
    ASSERT_TRUE(b.wait_for_prefix("ready", 10s));
    ASSERT_TRUE(eventually([&] { return a->events.joined().size() == 1; }, 5s));
    const std::string filler(256, 'x');
    for (int i = 0; i < 20000; ++i) a->transport->publish(make("stall.x", std::to_string(i) + filler, a->id()));
    ASSERT_TRUE(b.wait_for_prefix("stalling", 10s));
    // Stops within its linger, most of it still queued for b; its sockets close.
    a.reset();
    // b's SUB (or its keep-alive) writes to the closed connection within a
    // heartbeat interval, and again one later: the abort came then.
    std::this_thread::sleep_for(2500ms);
    EXPECT_FALSE(b.wait_exit(0ms).has_value()) << "b died while its publisher left";
    ASSERT_TRUE(b.wait_for_prefix("resumed", 5s));
    b.signal(SIGTERM);
    EXPECT_EQ(b.wait_exit(10s), 0);
}

}  // namespace
}  // namespace grav::ztest
