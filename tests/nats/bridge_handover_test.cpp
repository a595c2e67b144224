// How a message from NATS reaches the site's pods: on nats.c's own thread
// when nothing can make it wait (room in every mailbox, nothing queued ahead
// of it), else through the bridge's queue and thread, which waits for room.
// Either way each message arrives once, in order, and a receipt's on_reply
// callback never runs on nats.c's thread.
#include "nats_cluster.hpp"
#include "sites.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace grav::natstest {
namespace {

class Handover : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats_server_binary()) GTEST_SKIP() << "nats-server not installed (apt-get install nats-server)";
        cluster = NatsCluster::start(1);
    }
    std::unique_ptr<NatsCluster> cluster;
};

TEST_F(Handover, AFullMailboxSendsWhatFollowsThroughTheBridgeThreadInOrderNoneLost) {
    Site a({{"a1", bridge_options(cluster->urls(), {"feed.*"})}});
    Site b({{"b1", bridge_options(cluster->urls(), {"feed.*"})}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    test::Gate gate;
    auto inbox = std::make_shared<test::Inbox>();
    Pod reader = b.node(0).connect();
    const Status handler1 = reader.on_type("feed.*", [&gate, inbox](const Message& m) {
        inbox->add(m);
        if (!std::string(m.payload_view()).starts_with("warm:")) gate.wait(20s);  // held until all came in
    });
    ASSERT_TRUE(handler1.ok()) << handler1.error().what();
    Pod sender = a.node(0).connect();
    ASSERT_TRUE(warm_up(sender, "feed.tick", *inbox));

    // More than the reader's mailbox holds (4096): the first ones go in on
    // nats.c's thread, the rest wait in the bridge's queue.
    const auto inline_before = stat(b.node(0), "nats.delivered_inline");
    const auto received_before = stat(b.node(0), "nats.received");
    const int n = 6000;
    for (int i = 0; i < n; ++i)
        ASSERT_TRUE(sender.send(Message("feed.tick", std::to_string(i))).status().ok());
    ASSERT_TRUE(
        test::eventually([&] { return stat(b.node(0), "nats.received") - received_before >= n; }, 20s));
    const auto inline_count = stat(b.node(0), "nats.delivered_inline") - inline_before;
    EXPECT_GT(inline_count, 0u) << "nothing was handed over on nats.c's thread";
    EXPECT_LT(inline_count, static_cast<std::uint64_t>(n))
        << "a full mailbox did not send the rest to the queue";
    gate.open();

    ASSERT_TRUE(test::eventually([&] { return numbers(*inbox).size() == static_cast<std::size_t>(n); }, 20s))
        << numbers(*inbox).size() << " of " << n;
    std::this_thread::sleep_for(200ms);
    const auto got = numbers(*inbox);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(n)) << "a message came twice";
    for (int i = 0; i < n; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], i) << "out of order";
    EXPECT_EQ(stat(b.node(0), "nats.lost"), 0u);
    EXPECT_EQ(stat(b.node(0), "nats.queue_overflow"), 0u);
    EXPECT_EQ(stat(b.node(0), "nats.duplicates"), 0u);
    EXPECT_EQ(stat(b.node(0), "nats.slow_consumer"), 0u);
}

TEST_F(Handover, AWaitedReplyIsHandedOverAtOnceAndAnOnReplyCallbackNeverOnNatsThread) {
    Site a({{"a1", bridge_options(cluster->urls(), {"math.*"})}});
    Site b({{"b1", bridge_options(cluster->urls(), {"math.*"})}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    auto hold = std::make_shared<test::Gate>();
    Pod server = b.node(0).connect();
    const Status handler2 = server.on_type("math.add", [&server, hold](const Message& m) {
        hold->wait(10s);
        server.reply_to(m, Message("math.sum", "sum of " + std::string(m.payload_view())));
    });
    ASSERT_TRUE(handler2.ok()) << handler2.error().what();
    Pod client = a.node(0).connect();
    Listener seen(b.node(0), "math.*");
    ASSERT_TRUE(warm_up(client, "math.ping", *seen.inbox));

    // Waited for: the reply goes to the waiting thread from nats.c's.
    hold->open();
    // Inline only when nothing is queued ahead of it (a loaded machine may
    // still hold warm-up traffic in the bridge's queue): one of a few tries.
    auto before = stat(a.node(0), "nats.delivered_inline");
    for (int i = 0; i < 10 && stat(a.node(0), "nats.delivered_inline") == before; ++i) {
        auto reply = client.send(Message("math.add", "1")).wait_until(5s);
        ASSERT_TRUE(reply) << reply.error().what();
        EXPECT_EQ(reply->payload_view(), "sum of 1");
    }
    EXPECT_GT(stat(a.node(0), "nats.delivered_inline"), before) << "no waited reply was handed over inline";

    // A callback: set before the reply can come (the server holds it), so
    // the reply reaches it through the bridge's thread.
    auto second = std::make_shared<test::Gate>();
    const Status handler3 = server.on_type("math.add", [&server, second](const Message& m) {
        second->wait(10s);
        server.reply_to(m, Message("math.sum", "sum of " + std::string(m.payload_view())));
    });
    ASSERT_TRUE(handler3.ok()) << handler3.error().what();
    // nats.c's thread counts an inline hand-over just after it returns, so
    // the waiter above may have run (and the loop ended) before the count of
    // its own or an earlier try: read the count once it has settled.
    before = stat(a.node(0), "nats.delivered_inline");
    for (int i = 0; i < 40; ++i) {
        std::this_thread::sleep_for(50ms);
        const auto now = stat(a.node(0), "nats.delivered_inline");
        if (now == before) break;
        before = now;
    }
    auto got = std::make_shared<test::Inbox>();
    const auto receipt = client.send(Message("math.add", "2"));
    receipt.on_reply([got](const Message& m) { got->add(m); });
    second->open();
    ASSERT_TRUE(test::eventually([&] { return got->size() == 1; }, 5s));
    EXPECT_EQ(got->payloads().front(), "sum of 2");
    EXPECT_EQ(stat(a.node(0), "nats.delivered_inline") - before, 0u) << "the callback ran on nats.c's thread";
}

}  // namespace
}  // namespace grav::natstest
