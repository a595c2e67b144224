// The hub, proved over the in-process transport (a real Transport, its own
// threads and queues): bridging buses, belongs_to refusal, subscriptions,
// interests and tunnel round-robin, replies routed to the origin node only,
// withdraw seen at once.
#include <grav/grav.hpp>

#include "support/inproc_transport.hpp"
#include "support/recorder.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace grav::test {
namespace {

struct Node {
    Node(const InprocNetwork& net, std::string name, std::string group = "*",
         std::vector<std::string> interests = {}) {
        auto t = net.make_transport();
        transport = t.get();
        BusOptions options;
        options.transport = std::move(t);
        options.belongs_to = std::move(group);
        options.interests = std::move(interests);
        options.name = std::move(name);
        bus = std::make_unique<Bus>(std::move(options));
        bus->on_peer([this](const PeerEvent& e) {
            std::lock_guard lock(mutex);
            events.push_back(e);
        });
    }
    std::vector<PeerEvent> peer_events() const {
        std::lock_guard lock(mutex);
        return events;
    }
    std::uint64_t stat(const std::string& name) const { return transport->stats().at(name); }

    // Declared before the bus: ~Bus may still report peer events.
    mutable std::mutex mutex;
    std::vector<PeerEvent> events;
    InprocTransport* transport = nullptr;  // owned by the bus
    std::unique_ptr<Bus> bus;
};

bool meshed(const Node& a, const Node& b) {
    auto has = [](const Node& n, const NodeId& id) {
        for (const auto& p : n.bus->peers())
            if (p.id == id) return true;
        return false;
    };
    return has(a, b.bus->node_id()) && has(b, a.bus->node_id());
}

void link(Node& a, Node& b) {
    ASSERT_TRUE(a.bus->connect_endpoint(b.bus->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return meshed(a, b); }))
        << "no mesh between " << a.bus->name() << " and " << b.bus->name();
}

// Subscriptions travel asynchronously: wait until `from` passes `type` to `to`.
void wait_subscribed(const Node& from, const Node& to, const std::string& type) {
    ASSERT_TRUE(eventually([&] { return from.transport->peer_wants(to.bus->node_id(), type); }))
        << from.bus->name() << " never learned that " << to.bus->name() << " wants '" << type << "'";
}

TEST(Hub, ABusWithoutTransportHasNoEndpointAndCannotDial) {
    Bus bus;
    EXPECT_EQ(bus.endpoint(), "");
    EXPECT_FALSE(bus.connect_endpoint("inproc-net://1").ok());
    EXPECT_TRUE(bus.peers().empty());
}

TEST(Hub, BridgesMessagesBetweenBusesAndReportsPeers) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    Inbox back;
    InprocNetwork net;
    Node a(net, "a", "*", {"calc"});
    Node b(net, "b");
    EXPECT_TRUE(a.bus->endpoint().starts_with("inproc-net://"));
    link(a, b);
    const auto peers = b.bus->peers();
    ASSERT_EQ(peers.size(), 1U);
    EXPECT_EQ(peers[0].name, "a");
    EXPECT_EQ(peers[0].interests, std::vector<std::string>{"calc"});
    EXPECT_EQ(b.bus->stats().peers, 1U);
    ASSERT_TRUE(eventually([&] { return !a.peer_events().empty() && !b.peer_events().empty(); }));
    EXPECT_EQ(a.peer_events()[0].kind, PeerEvent::Kind::joined);
    EXPECT_EQ(a.peer_events()[0].peer.id, b.bus->node_id());

    Pod receiver = b.bus->connect();
    ASSERT_TRUE(receiver.on_type("chat.line", [&](const Message& m) { inbox.add(m); }).ok());
    wait_subscribed(a, b, "chat.line");
    Pod sender = a.bus->connect();
    const Message m("chat.line", "over the wire");
    sender.send(m);
    ASSERT_TRUE(eventually([&] { return inbox.size() == 1; }));
    const auto got = inbox.messages()[0];
    EXPECT_EQ(got.id(), m.id());
    EXPECT_EQ(got.payload_view(), "over the wire");
    EXPECT_EQ(got.origin(), a.bus->node_id());
    EXPECT_EQ(b.bus->stats().received_from_peers, 1U);

    // And back the other way.
    Pod a_receiver = a.bus->connect();
    ASSERT_TRUE(a_receiver.on_type("chat.line", [&](const Message& msg) { back.add(msg); }).ok());
    wait_subscribed(b, a, "chat.line");
    receiver.send(Message("chat.line", "reply path"));
    ASSERT_TRUE(eventually([&] { return back.size() == 1; }));
    EXPECT_EQ(back.messages()[0].origin(), b.bus->node_id());
}

TEST(Hub, OnlyTypesRemotePodsWantCrossTheWire) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    link(a, b);
    Pod receiver = b.bus->connect();
    ASSERT_TRUE(receiver.on_type("chat.*", [&](const Message& m) { inbox.add(m); }).ok());
    wait_subscribed(a, b, "chat.line");
    EXPECT_FALSE(a.transport->peer_wants(b.bus->node_id(), "metrics.cpu"));
    Pod sender = a.bus->connect();
    const auto received_before = b.stat("inproc.received");
    for (int i = 0; i < 10; ++i) sender.send(Message("metrics.cpu"));
    sender.send(Message("chat.line"));
    ASSERT_TRUE(eventually([&] { return inbox.size() == 1; }));
    EXPECT_EQ(b.stat("inproc.received") - received_before, 1U) << "unwanted types crossed the wire";
    EXPECT_EQ(inbox.types(), std::vector<std::string>{"chat.line"});
}

TEST(Hub, SubscriptionsFollowThePodsThatWantATypeAndGoWhenTheyGo) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    link(a, b);
    auto pod = std::make_unique<Pod>(b.bus->connect());
    ASSERT_TRUE(pod->on_type("chat.*", [](const Message&) {}).ok());
    wait_subscribed(a, b, "chat.line");
    pod.reset();  // the only pod that wanted chat.* leaves
    ASSERT_TRUE(eventually([&] { return !a.transport->peer_wants(b.bus->node_id(), "chat.line"); }))
        << "b still subscribes to a type no pod of it wants";
}

TEST(Hub, AFullMeshDeliversEachMessageOnceEverywhere) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> at_a{0}, at_b{0}, at_c{0};
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    Node c(net, "c");
    link(a, b);
    link(b, c);
    link(a, c);
    Pod pa = a.bus->connect();
    Pod pb = b.bus->connect();
    Pod pc = c.bus->connect();
    pa.on([&](const Message&) { ++at_a; });
    pb.on([&](const Message&) { ++at_b; });
    pc.on([&](const Message&) { ++at_c; });
    wait_subscribed(a, b, "x");
    wait_subscribed(a, c, "x");
    wait_subscribed(b, c, "x");
    wait_subscribed(c, b, "x");
    Pod sender = a.bus->connect();
    for (int i = 0; i < 10; ++i) sender.send(Message("x"));
    ASSERT_TRUE(eventually([&] { return at_a == 10 && at_b == 10 && at_c == 10; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(at_a, 10) << "a message came back to its own node";
    EXPECT_EQ(at_b, 10) << "a peer forwarded a message it received";
    EXPECT_EQ(at_c, 10) << "a peer forwarded a message it received";
}

TEST(Hub, NodesOfDifferentGroupsNeverMesh) {
    InprocNetwork net;
    Node red(net, "red", "red");
    Node blue(net, "blue", "blue");
    ASSERT_TRUE(red.bus->connect_endpoint(blue.bus->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return red.stat("inproc.refused") == 1; }))
        << "the dial between groups red and blue was not refused";
    std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(red.bus->peers().empty());
    EXPECT_TRUE(blue.bus->peers().empty());
    for (const auto& e : blue.peer_events()) EXPECT_NE(e.kind, PeerEvent::Kind::joined);

    // "*" matches any group.
    Node any(net, "any", "*");
    link(any, blue);
    Node red2(net, "red2", "red");
    link(red, red2);
}

TEST(Hub, TunnelGoesToExactlyOnePeerRoundRobin) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> at_b{0}, at_c{0}, at_d{0};
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b", "*", {"calc"});
    Node c(net, "c", "*", {"calc"});
    Node d(net, "d", "*", {"store"});
    link(a, b);
    link(a, c);
    link(a, d);
    Pod pb = b.bus->connect();
    Pod pc = c.bus->connect();
    Pod pd = d.bus->connect();
    ASSERT_TRUE(pb.on_type("calc.job", [&](const Message&) { ++at_b; }).ok());
    ASSERT_TRUE(pc.on_type("calc.job", [&](const Message&) { ++at_c; }).ok());
    ASSERT_TRUE(pd.on_type("calc.job", [&](const Message&) { ++at_d; }).ok());
    Pod client = a.bus->connect();
    for (int i = 0; i < 10; ++i) {
        auto r = client.tunnel("calc", Message("calc.job", std::to_string(i)));
        EXPECT_TRUE(r.status().ok()) << r.status().error().what();
    }
    ASSERT_TRUE(eventually([&] { return at_b + at_c == 10; }));
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(at_b, 5);
    EXPECT_EQ(at_c, 5);
    EXPECT_EQ(at_d, 0) << "a peer without the capability got a tunnel message";
}

TEST(Hub, TunnelWithNoPeerFailsAtOnce) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b", "*", {"calc"});
    link(a, b);
    Pod client = a.bus->connect();
    const auto t0 = std::chrono::steady_clock::now();
    auto r = client.tunnel("nobody.serves.this", Message("x"));
    ASSERT_FALSE(r.status().ok());
    EXPECT_EQ(r.status().error().code(), Errc::no_peer);
    auto reply = r.wait_until(5s);
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code(), Errc::no_peer);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);

    Bus standalone;
    Pod lonely = standalone.connect();
    auto r2 = lonely.tunnel("calc", Message("x"));
    ASSERT_FALSE(r2.status().ok());
    EXPECT_EQ(r2.status().error().code(), Errc::no_peer);
}

TEST(Hub, TunnelTriesTheNextPeerWhenASendFails) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> at_b{0}, at_c{0};
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b", "*", {"calc"});
    Node c(net, "c", "*", {"calc"});
    link(a, b);
    link(a, c);
    Pod pb = b.bus->connect();
    Pod pc = c.bus->connect();
    ASSERT_TRUE(pb.on_type("calc.job", [&](const Message&) { ++at_b; }).ok());
    ASSERT_TRUE(pc.on_type("calc.job", [&](const Message&) { ++at_c; }).ok());
    net.break_link(a.bus->node_id(), b.bus->node_id());
    Pod client = a.bus->connect();
    for (int i = 0; i < 6; ++i) client.tunnel("calc", Message("calc.job"));
    ASSERT_TRUE(eventually([&] { return at_c == 6; })) << "c got " << at_c << ", b got " << at_b;
    EXPECT_EQ(at_b, 0);
}

TEST(Hub, RepliesGoPointToPointToTheOriginNodeOnly) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox seen_at_c;
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    Node c(net, "c");
    link(a, b);
    link(a, c);
    link(b, c);
    Pod server = b.bus->connect();
    const Status server_handler =
        server.on_type("ask", [&](const Message& m) { server.reply_to(m, Message("ask.reply", "answer")); });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod bystander = c.bus->connect();
    bystander.on([&](const Message& m) { seen_at_c.add(m); });
    wait_subscribed(a, b, "ask");
    wait_subscribed(a, c, "ask");        // the request reaches the bystander too
    wait_subscribed(b, c, "ask.reply");  // a published reply would reach c
    const auto direct_before = b.stat("inproc.sent_direct");

    Pod client = a.bus->connect();
    auto reply = client.send(Message("ask", "q")).wait_until(5s);
    ASSERT_TRUE(reply.ok()) << reply.error().what();
    EXPECT_EQ(reply->payload_view(), "answer");
    EXPECT_EQ(reply->origin(), b.bus->node_id());
    ASSERT_TRUE(eventually([&] { return seen_at_c.size() >= 1; }));  // the request itself
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(seen_at_c.types(), std::vector<std::string>{"ask"}) << "the reply was broadcast";
    EXPECT_GE(b.stat("inproc.sent_direct") - direct_before, 1U);

    // The future-style request across nodes too.
    auto future = client.request(Message("ask", "q2"), 5s);
    ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
    auto r2 = future.get();
    ASSERT_TRUE(r2.ok()) << r2.error().what();
}

TEST(Hub, ManyRemoteRequestsAllGetTheirReplies) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    link(a, b);
    Pod server = b.bus->connect();
    const Status server_handler = server.on_type(
        "echo", [&](const Message& m) { server.reply_to(m, Message("echo.reply", m.payload_view())); });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    wait_subscribed(a, b, "echo");
    Pod client = a.bus->connect();
    const std::size_t n = scaled(2000, 100);
    for (std::size_t i = 0; i < n; ++i) {
        auto reply = client.send(Message("echo", std::to_string(i))).wait_until(5s);
        ASSERT_TRUE(reply.ok()) << "request " << i << ": " << reply.error().what();
        ASSERT_EQ(reply->payload_view(), std::to_string(i));
    }
}

TEST(Hub, WithdrawIsSeenAtOnceAndLocalPodsKeepWorking) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> local{0};
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    link(a, b);
    Pod x = a.bus->connect();
    Pod y = a.bus->connect();
    y.on([&](const Message&) { ++local; });

    const auto t0 = std::chrono::steady_clock::now();
    a.bus->withdraw();
    auto left = [&] {
        for (const auto& e : b.peer_events())
            if (e.kind == PeerEvent::Kind::left && e.peer.id == a.bus->node_id()) return true;
        return false;
    };
    ASSERT_TRUE(eventually(left, 2s)) << "b did not see a leave";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    for (const auto& e : b.peer_events())
        if (e.kind == PeerEvent::Kind::left) {
            EXPECT_EQ(e.reason, LeaveReason::withdrew);
        }
    EXPECT_TRUE(b.bus->peers().empty());
    EXPECT_TRUE(eventually([&] { return a.bus->peers().empty(); }));
    a.bus->withdraw();  // idempotent

    x.send(Message("still.local"));
    ASSERT_TRUE(eventually([&] { return local == 1; }));
}

TEST(Hub, StoppingOrDestroyingABusTellsItsPeers) {
    InprocNetwork net;
    Node a(net, "a");
    auto b = std::make_unique<Node>(net, "b");
    link(a, *b);
    Pod pod = b->bus->connect();
    pod.on([](const Message&) {});
    const NodeId b_id = b->bus->node_id();
    b.reset();  // ~Bus: stop, withdraw
    ASSERT_TRUE(eventually(
        [&] {
            for (const auto& e : a.peer_events())
                if (e.kind == PeerEvent::Kind::left && e.peer.id == b_id) return true;
            return false;
        },
        2s));
    EXPECT_TRUE(a.bus->peers().empty());
}

}  // namespace
}  // namespace grav::test
