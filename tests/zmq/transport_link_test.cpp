// The transport's links, with real sockets on 127.0.0.1: who is admitted and
// why not, dials from both sides or by a stale contact, stop and liveness.
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;

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

}  // namespace
}  // namespace grav::ztest
