// A node that knows no peer at all skips its publishes (Node::alone(): no
// one could ever get them), and stops skipping as soon as a peer appears:
// what is published once a peer has joined reaches it. A peer that is gone
// but may come back (its state retained for a RESEND) keeps the node from
// skipping: tests/zmq/resend_test.cpp (a paused peer misses nothing).
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <string>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;

TEST(ZmqPublishAlone, NothingIsEncodedWithNoPeerAndAJoinedPeerGetsWhatFollows) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    for (int i = 0; i < 100; ++i) a.transport->publish(make("t.x", "before " + std::to_string(i), a.id()));
    auto sa = a.transport->stats();
    EXPECT_EQ(sa.at("zmq.published_alone"), 100u);
    EXPECT_EQ(sa.at("zmq.published"), 0u);
    EXPECT_EQ(sa.at("zmq.messages_sent"), 0u);

    join(a, b);
    const int n = 200;
    for (int i = 0; i < n; ++i) a.transport->publish(make("t.x", std::to_string(i), a.id()));
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == static_cast<std::size_t>(n); }, 10s))
        << b.events.message_count() << " of " << n;
    int next = 0;
    for (const auto& r : b.events.messages()) EXPECT_EQ(r.message->payload_view(), std::to_string(next++));
    sa = a.transport->stats();
    EXPECT_EQ(sa.at("zmq.published_alone"), 100u) << "skipped with a peer joined";
    EXPECT_EQ(sa.at("zmq.published"), static_cast<std::uint64_t>(n));
    EXPECT_EQ(b.transport->stats().at("zmq.gaps"), 0u);

    // b says goodbye: nothing of it is kept (a clean leave needs no
    // RESEND), so a is alone again. (A peer that is only gone for a while
    // is kept, and gets what it missed: ZmqResend.APeerPausedLonger... )
    b.transport->stop();
    ASSERT_TRUE(eventually([&] { return a.events.has_left(b.id()); }, 10s));
    ASSERT_TRUE(eventually([&] { return a.transport->stats().at("zmq.peer_links") == 0; }, 10s));
    EXPECT_EQ(a.transport->stats().at("zmq.retained_peers"), 0u);
    for (int i = 0; i < 10; ++i) a.transport->publish(make("t.x", "after " + std::to_string(i), a.id()));
    sa = a.transport->stats();
    EXPECT_EQ(sa.at("zmq.published_alone"), 110u);
    EXPECT_EQ(sa.at("zmq.published"), static_cast<std::uint64_t>(n));
}

}  // namespace
}  // namespace grav::ztest
