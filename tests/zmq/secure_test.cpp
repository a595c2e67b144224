// Secure mode of the ZeroMQ transport, with real sockets on 127.0.0.1:
// members (allow-list or cluster secret) mesh and exchange messages; a node
// with the wrong credentials, or none, cannot complete a handshake, read a
// broadcast or inject a message — and every refusal shows in the stats and
// in the log.
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <grav/security.hpp>

#include <gtest/gtest.h>

#include <zmq.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;
using security::Identity;
using security::Policy;
using PolicyPtr = std::shared_ptr<const Policy>;

const std::string secret = "a long random cluster secret for the tests";

Identity new_identity() { return Identity::generate().value(); }

PolicyPtr allow(Identity self, std::vector<security::PublicKey> others) {
    auto policy = Policy::allow_list(std::move(self), std::move(others));
    EXPECT_TRUE(policy.ok());
    return *policy;
}

PolicyPtr cluster(const std::string& s) { return *Policy::cluster_secret(s); }

// A node whose log lines are kept for the test to read.
struct SecureNode {
    std::shared_ptr<std::mutex> log_mutex = std::make_shared<std::mutex>();
    std::shared_ptr<std::vector<std::string>> log_lines = std::make_shared<std::vector<std::string>>();
    std::unique_ptr<TestNode> node;

    SecureNode(std::string name, PolicyPtr policy,
               std::chrono::milliseconds ping_interval = zmq::Options{}.ping_interval) {
        auto o = fast_options();
        o.security = std::move(policy);
        o.ping_interval = ping_interval;
        o.log = [m = log_mutex, lines = log_lines](std::string_view line) {
            std::lock_guard lock(*m);
            lines->emplace_back(line);
        };
        node = std::make_unique<TestNode>(std::move(name), std::move(o));
    }
    TestNode* operator->() { return node.get(); }
    TestNode& operator*() { return *node; }
    std::uint64_t stat(const std::string& name) { return node->transport->stats().at(name); }
    bool logged(const std::string& part) const {
        std::lock_guard lock(*log_mutex);
        for (const auto& l : *log_lines) {
            if (l.find(part) != std::string::npos) return true;
        }
        return false;
    }
};

std::string keyed(const TestNode& n, const security::PublicKey& key) {
    return n.transport->endpoint() + "#" + key.text();
}

bool joined(TestNode& a, TestNode& b) { return a.events.has_joined(b.id()) && b.events.has_joined(a.id()); }

// Publishes from `from` and sends point-to-point back: both arrive.
void expect_exchange(TestNode& a, TestNode& b) {
    for (int i = 0; i < 20; ++i) a.transport->publish(make("t.x", "fanout " + std::to_string(i), a.id()));
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == 20; }, 10s)) << b.events.message_count();
    std::atomic<int> ok{0};
    for (int i = 0; i < 5; ++i) {
        b.transport->send_to(a.id(), make("t.reply", "direct " + std::to_string(i), b.id()), [&](Status s) {
            if (s) ++ok;
        });
    }
    ASSERT_TRUE(eventually([&] { return a.events.message_count() == 5 && ok == 5; }, 10s));
    int i = 0;
    for (const auto& r : b.events.messages())
        EXPECT_EQ(r.message->payload_view(), "fanout " + std::to_string(i++));
}

TEST(ZmqSecure, AllowListMembersMeshAndExchange) {
    Identity ia = new_identity(), ib = new_identity();
    const auto ka = ia.public_key(), kb = ib.public_key();
    SecureNode a("a", allow(std::move(ia), {kb}));
    SecureNode b("b", allow(std::move(ib), {ka}));
    ASSERT_TRUE(a->start().ok() && b->start().ok());
    EXPECT_EQ(a->transport->contact().public_key, ka.text());
    ASSERT_TRUE(b->transport->connect(keyed(*a, ka)).ok());
    ASSERT_TRUE(eventually([&] { return joined(*a, *b); }, 10s)) << b->events.refused().size();
    expect_exchange(*a, *b);
    EXPECT_EQ(a.stat("zmq.auth_refused"), 0u);
    EXPECT_EQ(b.stat("zmq.auth_refused"), 0u);
    EXPECT_EQ(a.stat("zmq.handshake_failed"), 0u);
}

// PING/PONG through CURVE and the allow-list's key check: the round trip
// keeps being measured and the peer keeps being seen.
TEST(ZmqSecure, AllowListLinksMeasureTheirRoundTrip) {
    Identity ia = new_identity(), ib = new_identity();
    const auto ka = ia.public_key(), kb = ib.public_key();
    SecureNode a("a", allow(std::move(ia), {kb}), 50ms);
    SecureNode b("b", allow(std::move(ib), {ka}), 50ms);
    ASSERT_TRUE(a->start().ok() && b->start().ok());
    ASSERT_TRUE(b->transport->connect(keyed(*a, ka)).ok());
    ASSERT_TRUE(eventually([&] { return joined(*a, *b); }, 10s));
    std::set<std::int64_t> rtts;
    std::optional<std::chrono::system_clock::time_point> first_seen;
    ASSERT_TRUE(eventually(
        [&] {
            for (const auto& t : b->transport->traffic()) {
                if (t.peer != a->id() || !t.rtt || !t.last_seen) continue;
                rtts.insert(t.rtt->count());
                if (!first_seen) first_seen = t.last_seen;
                return rtts.size() >= 3 && *t.last_seen > *first_seen;
            }
            return false;
        },
        10s))
        << rtts.size() << " round trips seen";
    EXPECT_EQ(a.stat("zmq.auth_refused"), 0u);
    EXPECT_EQ(a.stat("zmq.malformed"), 0u);
    EXPECT_EQ(b.stat("zmq.malformed"), 0u);
}

TEST(ZmqSecure, ClusterSecretMembersMeshWithoutKeysInEndpoints) {
    SecureNode a("a", cluster(secret)), b("b", cluster(secret)), c("c", cluster(secret));
    ASSERT_TRUE(a->start().ok() && b->start().ok() && c->start().ok());
    ASSERT_TRUE(b->transport->connect(a->transport->endpoint()).ok());
    ASSERT_TRUE(c->transport->connect(a->transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return joined(*a, *b) && joined(*a, *c); }, 10s));
    expect_exchange(*a, *b);
    // c got the fan-out too: the same frames as b, but on its own link, so
    // not necessarily by the time b has them all.
    EXPECT_TRUE(eventually([&] { return c->events.message_count() == 20u; }, 10s))
        << c->events.message_count();
}

TEST(ZmqSecure, DiallingByContactUsesItsPublicKey) {
    Identity ia = new_identity(), ib = new_identity();
    const auto ka = ia.public_key(), kb = ib.public_key();
    SecureNode a("a", allow(std::move(ia), {kb}));
    SecureNode b("b", allow(std::move(ib), {ka}));
    ASSERT_TRUE(a->start().ok() && b->start().ok());
    ASSERT_TRUE(b->transport->connect(a->transport->contact(), a->id()).ok());
    ASSERT_TRUE(eventually([&] { return joined(*a, *b); }, 10s));
}

TEST(ZmqSecure, StrangerKeyIsRefusedByZapAndSeesNothing) {
    Identity ia = new_identity(), ib = new_identity(), is = new_identity();
    const auto ka = ia.public_key(), kb = ib.public_key(), ks = is.public_key();
    SecureNode a("a", allow(std::move(ia), {kb}));
    SecureNode b("b", allow(std::move(ib), {ka}));
    // The stranger trusts a, but a does not list it.
    SecureNode stranger("stranger", allow(std::move(is), {ka}));
    ASSERT_TRUE(a->start().ok() && b->start().ok() && stranger->start().ok());
    ASSERT_TRUE(b->transport->connect(keyed(*a, ka)).ok());
    ASSERT_TRUE(eventually([&] { return joined(*a, *b); }, 10s));
    ASSERT_TRUE(stranger->transport->connect(keyed(*a, ka)).ok());
    ASSERT_TRUE(eventually([&] { return a.stat("zmq.auth_refused") >= 1; }, 10s));
    EXPECT_TRUE(eventually([&] { return a.logged("refused a connection from"); }, 5s))
        << "no log line for the refusal";
    // The refused side is told too: its handshake failed on a's policy.
    EXPECT_TRUE(eventually([&] { return stranger.stat("zmq.handshake_rejected") >= 1; }, 10s));
    EXPECT_TRUE(eventually(
        [&] {
            return stranger.logged("the secure handshake failed, it refused this node's key " + ks.text());
        },
        5s));
    for (int i = 0; i < 10; ++i) a->transport->publish(make("t.x", "secret", a->id()));
    stranger->transport->publish(make("t.x", "injected", stranger->id()));
    ASSERT_TRUE(eventually([&] { return b->events.message_count() == 10; }, 10s));
    std::this_thread::sleep_for(200ms);  // give a leak time to show
    EXPECT_EQ(stranger->events.message_count(), 0u);
    EXPECT_FALSE(a->events.has_joined(stranger->id()));
    EXPECT_FALSE(stranger->events.has_joined(a->id()));
    EXPECT_EQ(a->events.message_count(), 0u);
}

TEST(ZmqSecure, WrongClusterSecretIsRefused) {
    SecureNode a("a", cluster(secret)), b("b", cluster(secret + " but another one"));
    ASSERT_TRUE(a->start().ok() && b->start().ok());
    ASSERT_TRUE(b->transport->connect(a->transport->endpoint()).ok());
    // b expects its own cluster key as a's server key: the handshake fails.
    ASSERT_TRUE(eventually([&] { return a.stat("zmq.handshake_failed") >= 1; }, 10s));
    EXPECT_TRUE(eventually([&] { return a.logged("secure handshake failed"); }, 5s));
    // b learns it from its own side of the handshake.
    EXPECT_TRUE(eventually([&] { return b.stat("zmq.handshake_rejected") >= 1; }, 10s));
    EXPECT_TRUE(eventually([&] { return b.logged("cannot join " + a->transport->endpoint()); }, 5s));
    std::this_thread::sleep_for(200ms);
    EXPECT_FALSE(joined(*a, *b));
}

TEST(ZmqSecure, AllowListNeedsTheKeyOfAManualEndpoint) {
    Identity ia = new_identity(), ib = new_identity();
    const auto ka = ia.public_key(), kb = ib.public_key();
    SecureNode a("a", allow(std::move(ia), {kb}));
    SecureNode b("b", allow(std::move(ib), {ka}));
    ASSERT_TRUE(a->start().ok() && b->start().ok());
    ASSERT_TRUE(b->transport->connect(a->transport->endpoint()).ok());  // no #KEY
    ASSERT_TRUE(eventually([&] { return !b->events.refused().empty(); }, 10s));
    EXPECT_TRUE(eventually([&] { return b.logged("its public key is unknown"); }, 5s));
    EXPECT_GE(b.stat("zmq.auth_refused"), 1u);
    EXPECT_FALSE(joined(*a, *b));
}

TEST(ZmqSecure, PlainNodeCannotHandshakeReadOrInject) {
    SecureNode a("a", cluster(secret)), b("b", cluster(secret));
    ASSERT_TRUE(a->start().ok() && b->start().ok());
    ASSERT_TRUE(b->transport->connect(a->transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return joined(*a, *b); }, 10s));

    // A plain grav node (NULL mechanism) dials a.
    TestNode plain("plain");
    ASSERT_TRUE(plain.start().ok());
    ASSERT_TRUE(plain.transport->connect(a->transport->endpoint()).ok());

    // And raw libzmq sockets without CURVE: a SUB on a's fan-out and a DEALER
    // that sends a well-formed-looking message to a's ROUTER.
    ::zmq::context_t context;
    ::zmq::socket_t sub(context, ::zmq::socket_type::sub);
    sub.set(::zmq::sockopt::subscribe, "");
    sub.connect("tcp://127.0.0.1:" + std::to_string(a->transport->contact().fanout_port));
    ::zmq::socket_t dealer(context, ::zmq::socket_type::dealer);
    dealer.set(::zmq::sockopt::routing_id, b->id().str());  // pose as member b
    dealer.connect(a->transport->endpoint());
    const std::string header(82, '\0');
    std::array<::zmq::message_t, 3> injected{::zmq::message_t(std::string_view("t.x")),
                                             ::zmq::message_t(header.data(), header.size()),
                                             ::zmq::message_t(std::string_view("injected"))};
    for (std::size_t i = 0; i < injected.size(); ++i) {
        (void)dealer.send(injected[i], i + 1 < injected.size()
                                           ? ::zmq::send_flags::sndmore | ::zmq::send_flags::dontwait
                                           : ::zmq::send_flags::dontwait);
    }

    ASSERT_TRUE(eventually([&] { return a.stat("zmq.handshake_failed") >= 3; }, 10s))
        << a.stat("zmq.handshake_failed");
    EXPECT_TRUE(eventually([&] { return a.logged("secure handshake failed"); }, 5s));
    for (int i = 0; i < 10; ++i) a->transport->publish(make("t.x", "secret", a->id()));
    ASSERT_TRUE(eventually([&] { return b->events.message_count() == 10; }, 10s));
    ::zmq::message_t got;
    EXPECT_FALSE(sub.recv(got, ::zmq::recv_flags::dontwait));
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(sub.recv(got, ::zmq::recv_flags::dontwait)) << "a plain SUB read a secure broadcast";
    EXPECT_EQ(a->events.message_count(), 0u) << "a plain DEALER injected a message";
    EXPECT_EQ(plain.events.message_count(), 0u);
    EXPECT_FALSE(a->events.has_joined(plain.id()));
    EXPECT_EQ(a.stat("zmq.messages_received"), 0u);
    sub.set(::zmq::sockopt::linger, 0);
    dealer.set(::zmq::sockopt::linger, 0);
}

}  // namespace
}  // namespace grav::ztest
