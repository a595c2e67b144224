// grav::Bus over the ZeroMQ transport across real processes: node A lives in
// the test process, B and C are zmq_bus_node children on 127.0.0.1.
#include "child_process.hpp"
#include "support/loopback.hpp"

#include "support/test_util.hpp"

#include <grav/grav.hpp>
#include <grav/zmq.hpp>

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;
using grav::testkit::ChildProcess;

struct Recorded {
    std::mutex mutex;
    std::vector<Message> messages;
    void add(const Message& m) {
        std::lock_guard lock(mutex);
        messages.push_back(m);
    }
    std::vector<Message> all() {
        std::lock_guard lock(mutex);
        return messages;
    }
};

std::unique_ptr<Bus> make_bus(std::string name, std::vector<std::string> interests = {}) {
    BusOptions o;
    o.transport = zmq::transport({.bind = "tcp://127.0.0.1:0"});
    o.name = std::move(name);
    o.interests = std::move(interests);
    return std::make_unique<Bus>(std::move(o));
}

// Starts a child node dialling `endpoint`; returns once it has joined.
std::unique_ptr<ChildProcess> spawn(const std::string& name, const std::string& endpoint,
                                    std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{GRAV_BUS_NODE, "--name", name, "--connect", endpoint, "--peers", "1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = std::make_unique<ChildProcess>(std::move(argv));
    EXPECT_TRUE(child->wait_for_prefix("ready", 10s)) << name << " never joined";
    return child;
}

std::string child_id(ChildProcess& child) {
    auto line = child.wait_for_prefix("id ", 5s);
    return line ? line->substr(3) : std::string();
}

TEST(ZmqBus, APodGetsWhatOtherNodesSendInOrderNeverItsOwn) {
    auto a = make_bus("A");
    Recorded got;
    Pod pod = a->connect();
    pod.on([&](const Message& m) { got.add(m); });
    auto b = spawn("B", a->endpoint(), {"--count", "500"});
    auto c = spawn("C", a->endpoint(), {"--count", "500"});
    for (int i = 0; i < 10; ++i) pod.send(Message("seq.A", std::to_string(i)));

    ASSERT_TRUE(eventually([&] { return got.all().size() >= 1000; }, 20s)) << got.all().size();
    std::this_thread::sleep_for(200ms);
    const auto messages = got.all();
    EXPECT_EQ(messages.size(), 1000u);  // never twice
    std::map<std::string, int> next;
    for (const auto& m : messages) {
        EXPECT_NE(m.origin(), a->node_id()) << "a pod received its own node's message";
        ASSERT_TRUE(m.type() == "seq.B" || m.type() == "seq.C") << m.type();
        EXPECT_EQ(m.payload_view(), std::to_string(next[m.type()]++)) << "out of order from " << m.type();
    }
    EXPECT_EQ(next["seq.B"], 500);
    EXPECT_EQ(next["seq.C"], 500);
    // The other nodes got A's messages.
    EXPECT_TRUE(b->wait_for_prefix("got seq.A " + a->node_id().str() + " 9", 10s));
    EXPECT_TRUE(c->wait_for_prefix("got seq.A " + a->node_id().str() + " 9", 10s));
    EXPECT_EQ(a->stats().network.at("zmq.gaps"), 0u);
}

TEST(ZmqBus, RepliesTravelPointToPointToTheRequester) {
    auto a = make_bus("A");
    Pod pod = a->connect();
    auto b = spawn("B", a->endpoint());
    auto c = spawn("C", a->endpoint());
    Receipt receipt = pod.send(Message("req.echo", "hi"));
    std::set<std::string> replies;
    Status done = receipt.wait_until(10s, [&](const Message& reply) -> Status {
        EXPECT_EQ(reply.reply_to(), receipt.id());
        replies.insert(std::string(reply.payload_view()));
        return replies.size() == 2 ? success() : not_wanted();
    });
    ASSERT_TRUE(done.ok()) << done.error().what();
    EXPECT_EQ(replies, (std::set<std::string>{"B:hi", "C:hi"}));
    // Future-style request, across nodes.
    auto future = pod.request(Message("req.ping", "x"), 5s);
    auto first = future.get();
    ASSERT_TRUE(first.ok()) << first.error().what();
    EXPECT_EQ(first->type().rfind("rep.", 0), 0u);
    // B's reply went to A only: C saw the requests, never B's replies.
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(c->wait_for_prefix("got req.echo", 1s));
    EXPECT_FALSE(c->wait_for_prefix("got rep.B", 300ms));
    EXPECT_FALSE(b->wait_for_prefix("got rep.C", 100ms));
    EXPECT_GE(a->stats().network.at("zmq.direct_received"), 3u);
}

TEST(ZmqBus, TunnelRoundRobinsAcrossPeersAndFailsAtOnceWithoutOne) {
    auto a = make_bus("A");
    Pod pod = a->connect();
    auto b = spawn("B", a->endpoint(), {"--interest", "work"});
    auto c = spawn("C", a->endpoint(), {"--interest", "work"});
    auto d = spawn("D", a->endpoint());  // offers nothing: never picked
    std::map<std::string, int> served;
    for (int i = 0; i < 6; ++i) {
        Receipt r = pod.tunnel("work", Message("work.job", std::to_string(i)));
        ASSERT_TRUE(r.status().ok()) << r.status().error().what();
        auto reply = r.wait_until(10s);
        ASSERT_TRUE(reply.ok()) << reply.error().what();
        ++served[std::string(reply->payload_view())];
    }
    EXPECT_EQ(served, (std::map<std::string, int>{{"B", 3}, {"C", 3}}));
    EXPECT_FALSE(d->wait_for_prefix("got work.job", 200ms));

    const auto t0 = std::chrono::steady_clock::now();
    Receipt none = pod.tunnel("nobody-offers-this", Message("work.job", "x"));
    ASSERT_FALSE(none.status().ok());
    EXPECT_EQ(none.status().error().code(), Errc::no_peer);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);

    // A peer that is gone is skipped.
    const std::string c_id = child_id(*c);
    c->signal(SIGTERM);
    ASSERT_TRUE(eventually(
        [&] {
            for (const auto& p : a->peers()) {
                if (p.id.str() == c_id) return false;
            }
            return true;
        },
        5s));
    for (int i = 0; i < 3; ++i) {
        Receipt r = pod.tunnel("work", Message("work.job", "after"));
        auto reply = r.wait_until(10s);
        ASSERT_TRUE(reply.ok()) << reply.error().what();
        EXPECT_EQ(reply->payload_view(), "B");
    }
}

TEST(ZmqBus, WithdrawIsSeenAtOnceAndKillIsSeenWithinTheHeartbeatTimeout) {
    auto a = make_bus("A");
    std::mutex m;
    std::vector<PeerEvent> events;
    a->on_peer([&](const PeerEvent& e) {
        std::lock_guard lock(m);
        events.push_back(e);
    });
    auto left_reason = [&](const std::string& id) -> std::optional<LeaveReason> {
        std::lock_guard lock(m);
        for (const auto& e : events) {
            if (e.kind == PeerEvent::Kind::left && e.peer.id.str() == id) return e.reason;
        }
        return std::nullopt;
    };
    auto b = spawn("B", a->endpoint());
    auto c = spawn("C", a->endpoint());
    const std::string b_id = child_id(*b);
    const std::string c_id = child_id(*c);

    auto t0 = std::chrono::steady_clock::now();
    b->signal(SIGTERM);
    ASSERT_TRUE(eventually([&] { return left_reason(b_id).has_value(); }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_EQ(left_reason(b_id), LeaveReason::withdrew);

    t0 = std::chrono::steady_clock::now();
    c->signal(SIGKILL);
    ASSERT_TRUE(eventually([&] { return left_reason(c_id).has_value(); }, 10s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3500ms);
    EXPECT_EQ(left_reason(c_id), LeaveReason::timed_out);
}

TEST(ZmqBus, AFrozenPeerIsTimedOutByHeartbeats) {
    // SIGSTOP keeps its sockets open: only heartbeats can tell.
    BusOptions o;
    o.transport = zmq::transport(
        {.bind = "tcp://127.0.0.1:0", .heartbeat_interval = 200ms, .heartbeat_timeout = 1000ms});
    Bus a(std::move(o));
    auto b = spawn("B", a.endpoint(), {"--heartbeat-ms", "1000"});
    ASSERT_TRUE(eventually([&] { return a.peers().size() == 1; }, 5s));
    const auto t0 = std::chrono::steady_clock::now();
    b->signal(SIGSTOP);
    ASSERT_TRUE(eventually([&] { return a.peers().empty(); }, 5s));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 1600ms);
    EXPECT_GT(took, 300ms);
    b->signal(SIGKILL);
}

// A killed node never comes back under its node id (a restart is a new id):
// what the survivor keeps of it (its streams' state, the direct stream in the
// resend window, the link) must go once peer_state_retention has passed, or
// a long-running node grows with every peer that ever left (the soak).
TEST(ZmqBus, TheStateOfAKilledPeerIsErasedAfterTheRetentionNotBefore) {
    constexpr auto retention = 2000ms;
    BusOptions o;
    o.transport = zmq::transport({.bind = "tcp://127.0.0.1:0",
                                  .heartbeat_interval = 200ms,
                                  .heartbeat_timeout = 1000ms,
                                  .peer_state_retention = retention});
    Bus a(std::move(o));
    auto stat = [&](const char* name) { return a.stats().network.at(name); };
    Pod pod = a.connect();
    Recorded got;
    pod.on([&](const Message& m) {
        // One direct message back: A's window gets a direct stream to B.
        if (m.payload_view() == "0") pod.reply_to(m, Message("ack.A", "0"));
        got.add(m);
    });
    auto b = spawn("B", a.endpoint(), {"--heartbeat-ms", "1000", "--count", "20"});
    pod.send(Message("hello.A", "1"));  // and a fan-out stream
    ASSERT_TRUE(eventually([&] { return got.all().size() == 20; }, 10s)) << got.all().size();
    ASSERT_TRUE(b->wait_for_prefix("got ack.A", 10s)) << "B did not get A's direct reply";
    ASSERT_TRUE(
        eventually([&] { return stat("zmq.window_streams") == 2 && stat("zmq.peer_links") == 1; }, 5s))
        << "window streams " << stat("zmq.window_streams") << ", links " << stat("zmq.peer_links");
    EXPECT_EQ(stat("zmq.retained_peers"), 0u);

    b->signal(SIGKILL);
    ASSERT_TRUE(eventually([&] { return a.peers().empty(); }, 10s)) << "B's death not seen";
    const auto left = std::chrono::steady_clock::now();
    // Kept for its return while the retention runs ...
    ASSERT_TRUE(eventually([&] { return stat("zmq.retained_peers") == 1; }, 1s));
    EXPECT_EQ(stat("zmq.peer_links"), 0u);
    EXPECT_EQ(stat("zmq.window_streams"), 2u);
    // ... and erased once it has passed: stream state and window stream.
    ASSERT_TRUE(eventually([&] { return stat("zmq.retained_peers") == 0; }, retention + 5s))
        << "B's stream state still kept";
    EXPECT_GE(std::chrono::steady_clock::now() - left, retention - 200ms) << "erased before the retention";
    ASSERT_TRUE(eventually([&] { return stat("zmq.window_streams") == 1; }, 1s))
        << "B's direct stream still in the window: " << stat("zmq.window_streams");
    EXPECT_EQ(stat("zmq.peer_links"), 0u);
    EXPECT_EQ(stat("zmq.lost"), 0u);
}

TEST(ZmqBus, ARestartedPeerAtTheSameAddressIsReconnected) {
    auto a = make_bus("A");
    Pod pod = a->connect();
    Recorded got;
    pod.on([&](const Message& m) { got.add(m); });
    // A dials B by hand at a fixed port; B then restarts there with a new id.
    // P and P+1 (the fan-out socket) free: a fixed port from the pid collided
    // with another test's socket under a parallel ctest.
    const int port = test::free_loopback_port_pair();
    const std::string ep = "tcp://127.0.0.1:" + std::to_string(port);
    auto start_b = [&] {
        return std::make_unique<ChildProcess>(std::vector<std::string>{GRAV_BUS_NODE, "--name", "B", "--bind",
                                                                       ep, "--peers", "1", "--count", "3"});
    };
    auto b = start_b();
    ASSERT_TRUE(a->connect_endpoint(ep).ok());
    ASSERT_TRUE(b->wait_for_prefix("ready", 10s));
    const std::string first = child_id(*b);
    ASSERT_TRUE(eventually([&] { return got.all().size() == 3; }, 10s));
    b->signal(SIGKILL);
    b->wait_exit(5s);
    b = start_b();
    ASSERT_TRUE(b->wait_for_prefix("ready", 10s)) << "A did not reconnect to the restarted B";
    const std::string second = child_id(*b);
    EXPECT_NE(first, second);
    ASSERT_TRUE(eventually(
        [&] {
            auto peers = a->peers();
            return peers.size() == 1 && peers.front().id.str() == second;
        },
        10s));
    ASSERT_TRUE(eventually([&] { return got.all().size() >= 6; }, 10s)) << [&] {
        std::string s = "first " + first + " second " + second + ": ";
        for (const auto& m : got.all())
            s += m.origin().short_str() + ":" + std::string(m.payload_view()) + " ";
        for (const auto& [k, v] : a->stats().network) s += k + "=" + std::to_string(v) + " ";
        return s;
    }();
}

TEST(ZmqBus, WaitForPeersReturnsOnceTheDialledPeerIsReadyOrSaysWhyNot) {
    auto a = make_bus("A");
    auto b = make_bus("B");
    const auto t0 = std::chrono::steady_clock::now();
    auto none = a->wait_for_peers(1, 200ms);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), Errc::timeout);
    EXPECT_NE(none.error().reason().find("0 of 1 peer(s) ready"), std::string::npos) << none.error().what();
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);

    Pod pb = b->connect();
    Recorded got;
    pb.on([&](const Message& m) { got.add(m); });
    ASSERT_TRUE(a->connect_endpoint(b->endpoint()).ok());
    auto ready = a->wait_for_peers(1, 10s);
    ASSERT_TRUE(ready) << ready.error().what();
    ASSERT_EQ(ready->size(), 1u);
    EXPECT_EQ(ready->front().id, b->node_id());
    auto by_id = b->wait_for_peer(a->node_id(), 10s);
    ASSERT_TRUE(by_id) << by_id.error().what();
    EXPECT_EQ(by_id->name, "A");
    // Ready means B's subscriptions of before the join are in place: what A
    // sends now reaches B, without polling peers().
    Pod pa = a->connect();
    ASSERT_TRUE(pa.send(Message("hello", "now")).status());
    EXPECT_TRUE(eventually([&] { return got.all().size() == 1; }, 5s));

    auto unknown = a->wait_for_peer(NodeId::random(), 100ms);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code(), Errc::timeout);

    // A waiter is let go when its bus leaves the mesh, not at its timeout.
    std::thread leaver([&] {
        std::this_thread::sleep_for(200ms);
        a->withdraw();
    });
    const auto t1 = std::chrono::steady_clock::now();
    auto gone = a->wait_for_peers(5, 10s);
    leaver.join();
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code(), Errc::closed) << gone.error().what();
    EXPECT_LT(std::chrono::steady_clock::now() - t1, 5s);

    Bus standalone;
    auto alone = standalone.wait_for_peers(1, 10ms);
    ASSERT_FALSE(alone);
    EXPECT_EQ(alone.error().code(), Errc::invalid_argument);
}

TEST(ZmqBus, AMovedBusKeepsItsNodeAndPods) {
    auto b = make_bus("B");
    Pod pb = b->connect();
    Recorded got;
    pb.on([&](const Message& m) { got.add(m); });
    Bus a = std::move(*make_bus("A"));
    Pod pa = a.connect();
    ASSERT_TRUE(a.connect_endpoint(b->endpoint()).ok());
    ASSERT_TRUE(a.wait_for_peers(1, 10s));
    Bus moved(std::move(a));
    ASSERT_TRUE(pa.send(Message("t", "from a pod of the moved bus")).status());
    EXPECT_TRUE(eventually([&] { return got.all().size() == 1; }, 5s));
    Bus assigned;
    assigned = std::move(moved);
    EXPECT_EQ(assigned.peers().size(), 1u);
}

}  // namespace
}  // namespace grav::ztest
