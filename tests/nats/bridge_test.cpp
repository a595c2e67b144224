// Sites joined through a real three-server NATS cluster: what crosses, how
// often, in what order; requests, replies and tunnels across sites; what is
// refused.
#include "nats_cluster.hpp"
#include "sites.hpp"
#include "test_node.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace grav::natstest {
namespace {

class Bridged : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats_server_binary()) GTEST_SKIP() << "nats-server not installed (apt-get install nats-server)";
        cluster = NatsCluster::start(3);
    }
    // Each bridge on its own server, so messages cross the cluster's routes.
    nats::Options on(std::size_t server, std::vector<std::string> types = {"chat.*", "math.*"}) {
        return bridge_options({cluster->url(server)}, std::move(types));
    }
    std::unique_ptr<NatsCluster> cluster;
};

std::vector<std::string> numbered(std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back("m" + std::to_string(i));
    return out;
}

TEST_F(Bridged, EachMessageReachesEveryPodOfEverySiteExactlyOnceInOrder) {
    // Sites A and B run two bridge nodes each (redundancy), C one.
    Site a({{"a1", on(0)}, {"a2", on(1)}, {"a3"}});
    Site b({{"b1", on(2)}, {"b2", on(0)}, {"b3"}});
    Site c({{"c1", on(1)}, {"c2"}});
    std::vector<std::unique_ptr<Listener>> far, near;
    for (std::size_t i = 0; i < b.size(); ++i) far.push_back(std::make_unique<Listener>(b.node(i), "chat.*"));
    for (std::size_t i = 0; i < c.size(); ++i) far.push_back(std::make_unique<Listener>(c.node(i), "chat.*"));
    for (std::size_t i = 0; i < a.size(); ++i) near.push_back(std::make_unique<Listener>(a.node(i), "chat.*"));
    for (auto* bridge : {&a.node(0), &a.node(1), &b.node(0), &b.node(1), &c.node(0)}) {
        ASSERT_TRUE(bridge_connected(*bridge));
    }

    // The sender is a plain node: its messages reach the site's active bridge through the mesh.
    Pod sender = a.node(2).connect();
    for (auto& l : far) ASSERT_TRUE(warm_up(sender, "chat.line", *l->inbox));

    const std::size_t n = test::scaled(500, 50);
    const auto expected = numbered(n);
    for (const auto& p : expected) ASSERT_TRUE(sender.send(Message("chat.line", p)).status().ok());

    for (auto* group : {&far, &near}) {
        for (auto& l : *group) {
            ASSERT_TRUE(test::eventually([&] { return real_payloads(*l->inbox).size() >= n; }, 20s))
                << real_payloads(*l->inbox).size() << " of " << n;
        }
    }
    std::this_thread::sleep_for(500ms);  // room for a duplicate or an echo to show up
    for (auto* group : {&far, &near}) {
        for (auto& l : *group) EXPECT_EQ(real_payloads(*l->inbox), expected);
    }
    // One bridge of each site carried the traffic; the other stood by.
    EXPECT_EQ(stat(a.node(0), "bridge.active") + stat(a.node(1), "bridge.active"), 1u);
    EXPECT_EQ(stat(b.node(0), "bridge.active") + stat(b.node(1), "bridge.active"), 1u);
    EXPECT_GE(stat(a.node(0), "bridge.forwarded") + stat(a.node(1), "bridge.forwarded"), n);
    for (auto* site : {&a, &b, &c}) {
        for (std::size_t i = 0; i < site->size(); ++i) EXPECT_EQ(stat(site->node(i), "bridge.lost"), 0u);
    }
}

TEST_F(Bridged, EveryFieldOfAMessageCrossesAsItWasSent) {
    Site a({{"a1", on(0)}, {"a2"}});
    Site b({{"b1", on(1)}, {"b2"}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    Listener far(b.node(1), "chat.*");
    Pod sender = a.node(1).connect();
    ASSERT_TRUE(warm_up(sender, "chat.line", *far.inbox));
    std::string payload;
    for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));  // every byte value, NUL included
    Message m("chat.line", payload);
    const MessageId parent = MessageId::random();
    m.set_parent_id(parent);
    const MessageId id = m.id();
    const auto when = m.timestamp();
    ASSERT_TRUE(sender.send(std::move(m)).status().ok());
    ASSERT_TRUE(test::eventually([&] { return real_payloads(*far.inbox).size() == 1; }, 5s));
    const auto got = far.inbox->messages().back();
    EXPECT_EQ(got.id(), id);
    EXPECT_EQ(got.parent_id(), parent);
    EXPECT_EQ(got.origin(), a.node(1).node_id());
    EXPECT_EQ(got.timestamp(), when);
    EXPECT_EQ(got.type(), "chat.line");
    EXPECT_EQ(got.payload_view(), payload);
}

TEST_F(Bridged, AReceiptOnOneSiteGetsTheReplyOfAPodOnAnother) {
    Site a({{"a1", on(0)}, {"a2"}});
    Site b({{"b1", on(2)}, {"b2"}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    // The replier sits on a plain node of site B, the requester on a plain node of site A.
    Pod server = b.node(1).connect();
    const Status server_handler = server.on_type("math.add", [&](const Message& m) {
        server.reply_to(m, Message("math.sum", "sum of " + std::string(m.payload_view())));
    });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod client = a.node(1).connect();
    Listener seen(b.node(1), "math.*");
    ASSERT_TRUE(warm_up(client, "math.ping", *seen.inbox));

    for (int i = 0; i < 20; ++i) {
        auto reply = client.send(Message("math.add", std::to_string(i))).wait_until(5s);
        ASSERT_TRUE(reply) << reply.error().what();
        EXPECT_EQ(reply->payload_view(), "sum of " + std::to_string(i));
        EXPECT_EQ(reply->type(), "math.sum");
    }
    // From the bridge node itself too.
    Pod on_bridge = a.node(0).connect();
    auto reply = on_bridge.send(Message("math.add", "x")).wait_until(5s);
    ASSERT_TRUE(reply) << reply.error().what();
    EXPECT_EQ(reply->payload_view(), "sum of x");
}

// The replier's site changes its active bridge while the request is being
// handled: the reply goes to the new active bridge, which was a standby when
// the request came in from NATS. A standby remembers where each message from
// another site came from, too, so the reply finds its way back (it was lost,
// uncounted, when only the injecting bridge knew).
TEST_F(Bridged, AReplyMadeAfterTheSitesActiveBridgeChangedStillReachesTheRequester) {
    Site a({{"a1", on(0)}, {"a2"}});
    Site b({{"b1", on(1)}, {"b2", on(2)}, {"b3"}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(1)));
    std::atomic<bool> hold{false};
    std::atomic<bool> holding{false};
    Pod server = b.node(2).connect();
    const Status server_handler = server.on_type("math.add", [&](const Message& m) {
        if (hold) {
            holding = true;
            (void)test::eventually([&] { return !hold.load(); }, 20s);
        }
        server.reply_to(m, Message("math.sum", "sum of " + std::string(m.payload_view())));
    });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod client = a.node(1).connect();
    Listener seen(b.node(2), "math.*");
    ASSERT_TRUE(warm_up(client, "math.ping", *seen.inbox));
    auto first = client.send(Message("math.add", "0")).wait_until(5s);
    ASSERT_TRUE(first) << first.error().what();

    hold = true;
    Receipt pending = client.send(Message("math.add", "1"));
    ASSERT_TRUE(test::eventually([&] { return holding.load(); }, 10s)) << "the request never reached site B";
    const std::size_t active = stat(b.node(0), "bridge.active") == 1 ? 0 : 1;
    ASSERT_EQ(stat(b.node(active), "bridge.active"), 1u);
    b.stop(active);  // the other bridge node (index 0 now) takes over
    ASSERT_TRUE(test::eventually([&] { return stat(b.node(0), "bridge.active") == 1; }, 10s));
    hold = false;
    auto reply = pending.wait_until(10s);
    ASSERT_TRUE(reply) << reply.error().what();
    EXPECT_EQ(reply->payload_view(), "sum of 1");
    EXPECT_GE(stat(b.node(0), "bridge.replies_relayed"), 1u)
        << "the reply did not go through the new active bridge";
    EXPECT_EQ(stat(b.node(0), "bridge.reply_relays_failed"), 0u);
}

TEST_F(Bridged, ATunnelReachesExactlyOneNodeOfAnotherSiteThatOffersIt) {
    Site a({{"a1", on(0)}});
    Site b({{"b1", on(1)}, {"b2", std::nullopt, {"adder"}}});
    Site c({{"c1", on(2), {"adder"}}});
    for (auto* n : {&a.node(0), &b.node(0), &c.node(0)}) ASSERT_TRUE(bridge_connected(*n));
    std::atomic<int> served_b{0}, served_c{0};
    Pod pb = b.node(1).connect();
    const Status pb_handler = pb.on_type("job", [&](const Message& m) {
        ++served_b;
        pb.reply_to(m, Message("job.done", "b"));
    });
    ASSERT_TRUE(pb_handler.ok()) << pb_handler.error().what();
    Pod pc = c.node(0).connect();
    const Status pc_handler = pc.on_type("job", [&](const Message& m) {
        ++served_c;
        pc.reply_to(m, Message("job.done", "c"));
    });
    ASSERT_TRUE(pc_handler.ok()) << pc_handler.error().what();
    Pod client = a.node(0).connect();
    // The queue groups' interest crosses the routes asynchronously.
    ASSERT_TRUE(test::eventually([&] { return client.tunnel("adder", Message("job", "probe")).wait_until(1s).ok(); },
                                 15s));
    served_b = 0;
    served_c = 0;
    const int n = 20;
    for (int i = 0; i < n; ++i) {
        auto reply = client.tunnel("adder", Message("job", std::to_string(i))).wait_until(5s);
        ASSERT_TRUE(reply) << reply.error().what();
        EXPECT_TRUE(reply->payload_view() == "b" || reply->payload_view() == "c");
    }
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(served_b + served_c, n);  // each request served once, by one site
}

TEST_F(Bridged, ATunnelNoSiteOffersFailsAtOnceWithNoPeer) {
    Site a({{"a1", on(0)}});
    Site b({{"b1", on(1), {"adder"}}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    Pod client = a.node(0).connect();
    const auto t0 = std::chrono::steady_clock::now();
    auto reply = client.tunnel("nobody.here", Message("job", "x")).wait_until(10s);
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code(), Errc::no_peer) << reply.error().what();
    EXPECT_LT(took, 5s) << "waited for the timeout instead of NATS' no-responders";
    EXPECT_GE(stat(a.node(0), "nats.no_responders"), 1u);
}

TEST_F(Bridged, ATunnelFromANodeWithoutABridgeCrossesThroughItsSitesBridge) {
    // a2 has no bridge and no peer of site A offers "adder": its site's
    // bridge node asks NATS, and the reply comes back to a2.
    Site a({{"a1", on(0)}, {"a2"}});
    Site b({{"b1", on(1)}, {"b2", std::nullopt, {"adder"}}});
    for (auto* n : {&a.node(0), &b.node(0)}) ASSERT_TRUE(bridge_connected(*n));
    std::atomic<int> served{0};
    Pod pb = b.node(1).connect();
    const Status handler = pb.on_type("job", [&](const Message& m) {
        ++served;
        pb.reply_to(m, Message("job.done", "sum " + std::string(m.payload_view())));
    });
    ASSERT_TRUE(handler.ok()) << handler.error().what();
    Pod client = a.node(1).connect();
    ASSERT_TRUE(test::eventually(
        [&] { return client.tunnel("adder", Message("job", "probe")).wait_until(1s).ok(); }, 15s));
    served = 0;
    const int n = 10;
    for (int i = 0; i < n; ++i) {
        auto reply = client.tunnel("adder", Message("job", std::to_string(i))).wait_until(5s);
        ASSERT_TRUE(reply) << reply.error().what();
        EXPECT_EQ(reply->payload_view(), "sum " + std::to_string(i));
    }
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(served, n);
    EXPECT_GE(stat(a.node(0), "bridge.tunnels_relayed"), static_cast<std::uint64_t>(n));
}

TEST_F(Bridged, ATunnelFromANodeWithoutABridgeNoSiteOffersFailsAtOnce) {
    Site a({{"a1", on(0)}, {"a2"}});
    Site b({{"b1", on(1), {"adder"}}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    Pod client = a.node(1).connect();
    const auto t0 = std::chrono::steady_clock::now();
    auto reply = client.tunnel("nobody.here", Message("job", "x")).wait_until(10s);
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code(), Errc::no_peer) << reply.error().what();
    EXPECT_NE(reply.error().reason().find("nobody.here"), std::string::npos) << reply.error().what();
    EXPECT_LT(took, 5s) << "waited for the timeout instead of NATS' no-responders";
    EXPECT_GE(stat(a.node(0), "bridge.tunnel_relays_failed"), 1u);
}

TEST_F(Bridged, AMalformedTunnelRelayIsRefusedAndCountedNotRelayed) {
    Site a({{"a1", on(0)}, {"a2"}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    // A hostile peer of the mesh (a bare transport: a pod may not send
    // grav.sys. types) sends the bridge node "grav.sys.tunnel" and
    // "grav.sys.reply" messages whose payloads are not relays.
    ztest::TestNode hostile("hostile", ztest::fast_options(), "sites");
    ASSERT_TRUE(hostile.start().ok());
    ASSERT_TRUE(a.node(0).connect_endpoint(hostile.transport->endpoint()).ok());
    ASSERT_TRUE(a.node(0).wait_for_peer(hostile.id(), 10s).ok());
    for (const char* type : {"grav.sys.tunnel", "grav.sys.reply"}) {
        hostile.transport->send_to(a.node(0).node_id(), ztest::make(type, "not a relay", hostile.id()), {});
    }
    EXPECT_TRUE(test::eventually(
        [&] {
            return stat(a.node(0), "bridge.refused") >= 1 &&
                   stat(a.node(0), "bridge.reply_relays_failed") >= 1;
        },
        5s));
    EXPECT_EQ(stat(a.node(0), "bridge.tunnels_relayed"), 0u);
    EXPECT_EQ(stat(a.node(0), "bridge.replies_relayed"), 0u);
    // The bridge node goes on serving its site.
    Pod peer = a.node(1).connect();
    const Status handler =
        peer.on_type("ping", [&](const Message& m) { (void)peer.reply_to(m, Message("pong", "!")); });
    ASSERT_TRUE(handler.ok()) << handler.error().what();
    Pod pinger = a.node(0).connect();
    ASSERT_TRUE(
        test::eventually([&] { return pinger.send(Message("ping", "again")).wait_until(500ms).ok(); }, 10s));
}

TEST_F(Bridged, ATypeThatCannotBeASubjectIsRefusedWithTheReason) {
    Site a({{"a1", on(0, {"chat.>"})}});
    Listener local(a.node(0), "chat.*");
    Pod pod = a.node(0).connect();
    auto r = pod.send(Message("chat.bad type", "x")).wait_until(1s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Errc::rejected);
    EXPECT_NE(r.error().reason().find("white space"), std::string::npos) << r.error().what();
    EXPECT_EQ(stat(a.node(0), "bridge.refused"), 1u);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(local.inbox->size(), 0u);  // refused whole, not half-delivered
}

TEST(BridgeOptions, UnusableOptionsStopTheBusFromStartingWithTheReason) {
    auto attempt = [](nats::Options o) -> std::string {
        try {
            BusOptions bo;
            bo.bridge = nats::bridge(std::move(o));
            Bus bus(std::move(bo));
        } catch (const StartError& e) {
            return e.what();
        }
        return "started";
    };
    EXPECT_NE(attempt(bridge_options({"nats://127.0.0.1:1"}, {"chat*"})).find("'*' and '>' must stand alone"),
              std::string::npos);
    EXPECT_NE(attempt(bridge_options({}, {"chat.*"})).find("no server"), std::string::npos);
    EXPECT_NE(attempt(bridge_options({"nats://127.0.0.1:1"}, {})).find("no types"), std::string::npos);
    EXPECT_NE(attempt(bridge_options({"nats://127.0.0.1:1"}, {"a.>.b"})).find("'>' before its last"),
              std::string::npos);
}

class OneServer : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats_server_binary()) GTEST_SKIP() << "nats-server not installed (apt-get install nats-server)";
        cluster = NatsCluster::start(1, {.max_payload = 64 * 1024});
    }
    std::unique_ptr<NatsCluster> cluster;
};

TEST_F(OneServer, AMessageLargerThanTheServersMaxPayloadIsRefusedNeverCut) {
    Site a({{"a1", bridge_options(cluster->urls(), {"blob.*"})}});
    Site b({{"b1", bridge_options(cluster->urls(), {"blob.*"})}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    Listener far(b.node(0), "blob.*");
    Pod pod = a.node(0).connect();
    ASSERT_TRUE(warm_up(pod, "blob.x", *far.inbox));
    auto r = pod.send(Message("blob.x", std::string(100 * 1024, 'z'))).wait_until(1s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Errc::rejected);
    EXPECT_NE(r.error().reason().find("max_payload of 65536"), std::string::npos) << r.error().what();
    ASSERT_TRUE(pod.send(Message("blob.x", std::string(60 * 1024, 'y'))).status().ok());
    ASSERT_TRUE(test::eventually([&] { return real_payloads(*far.inbox).size() == 1; }, 5s));
    EXPECT_EQ(real_payloads(*far.inbox)[0], std::string(60 * 1024, 'y'));
}

}  // namespace
}  // namespace grav::natstest
