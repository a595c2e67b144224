// grav::join_lan (issue 19): the transport and the beacons of a node set up
// from ONE policy. Full buses on loopback, as in bus_loopback_test.cpp: in a
// network namespace of their own when the process can (root), else with
// discovery restricted to "lo" on a port derived from the pid.

#include "private_network.hpp"

#include <grav/bus.hpp>
#include <grav/lan.hpp>
#include <grav/security.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace grav {
namespace {

using namespace std::chrono_literals;
using security::Policy;

LanOptions lan_options(std::shared_ptr<const Policy> policy) {
    LanOptions lan;
    lan.security = std::move(policy);
    lan.transport.bind = "tcp://127.0.0.1:0";
    lan.transport.log = [](std::string_view) {};
    if (!testkit::in_private_network()) {
        lan.discovery.interface = "lo";
        lan.discovery.port = testkit::test_port();
    }
    return lan;
}

std::unique_ptr<Bus> lan_bus(LanOptions lan, const std::string& group) {
    BusOptions options;
    const Status joined = join_lan(options, std::move(lan));
    EXPECT_TRUE(joined.ok()) << (joined ? "" : joined.error().what());
    options.belongs_to = group;
    options.workers = 2;
    return std::make_unique<Bus>(std::move(options));
}

bool wait_peers(const Bus& bus, std::size_t n, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (bus.peers().size() == n) return true;
        std::this_thread::sleep_for(5ms);
    }
    return bus.peers().size() == n;
}

// a's message reaches b. The subscription travels to a first: send until it
// is in place (bounded), the count is the assertion.
bool message_crosses(Bus& a, Bus& b) {
    auto receiver = b.connect();
    std::atomic<int> got{0};
    if (!receiver.on_type("lan.hello", [&](const Message&) { got.fetch_add(1); }).ok()) return false;
    auto sender = a.connect();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (got.load() == 0 && std::chrono::steady_clock::now() < deadline) {
        sender.send(Message("lan.hello", "hi"));
        std::this_thread::sleep_for(20ms);
    }
    return got.load() > 0;
}

std::uint64_t stat(const Bus& bus, const std::string& key) {
    const auto stats = bus.stats().network;
    const auto it = stats.find(key);
    return it == stats.end() ? 0 : it->second;
}

TEST(JoinLan, TwoSecureBusesOfOnePolicyMeshAndAMessageCrosses) {
    const auto policy = *Policy::cluster_secret("the join_lan test's long cluster secret");
    auto a = lan_bus(lan_options(policy), "secure");
    auto b = lan_bus(lan_options(policy), "secure");
    ASSERT_TRUE(wait_peers(*a, 1, 5s));
    ASSERT_TRUE(wait_peers(*b, 1, 5s));
    EXPECT_TRUE(message_crosses(*a, *b));
    // Both halves are secure: the beacons were signed (none ignored as
    // unsigned or as signed by a plain node) and the links were CURVE.
    EXPECT_EQ(stat(*a, "beacon.unsigned"), 0U);
    EXPECT_EQ(stat(*b, "beacon.unsigned"), 0U);
    EXPECT_EQ(stat(*a, "beacon.signed_ignored"), 0U);
    EXPECT_EQ(stat(*a, "zmq.handshake_failed"), 0U);
    // A plain node of the same group and port: its unsigned beacons are
    // ignored (counted) by the secure ones, which it ignores in turn.
    auto plain = lan_bus(lan_options(nullptr), "secure");
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while ((stat(*a, "beacon.unsigned") == 0 || stat(*plain, "beacon.signed_ignored") == 0) &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_GE(stat(*a, "beacon.unsigned"), 1U);
    EXPECT_GE(stat(*plain, "beacon.signed_ignored"), 1U) << "the secure nodes' beacons were not signed";
    EXPECT_TRUE(plain->peers().empty());
    EXPECT_EQ(a->peers().size(), 1U);
}

TEST(JoinLan, TwoPlainBusesMeshAndAMessageCrosses) {
    auto a = lan_bus(lan_options(nullptr), "plain");
    auto b = lan_bus(lan_options(nullptr), "plain");
    ASSERT_TRUE(wait_peers(*a, 1, 5s));
    ASSERT_TRUE(wait_peers(*b, 1, 5s));
    EXPECT_TRUE(message_crosses(*b, *a));
}

// The policy set once on LanOptions and once more on a part: the same object
// is fine, another one (or one on a plain node) is refused with a reason that
// names the field, and BusOptions stays untouched.
TEST(JoinLan, APolicySetSeparatelyOnAPartIsRefusedWithAClearError) {
    const auto policy = *Policy::cluster_secret("the join_lan test's long cluster secret");
    const auto other = *Policy::cluster_secret("another long cluster secret for join_lan");

    LanOptions transport_other = lan_options(policy);
    transport_other.transport.security = other;
    BusOptions options;
    Status joined = join_lan(options, std::move(transport_other));
    ASSERT_FALSE(joined.ok());
    EXPECT_EQ(joined.error().code(), Errc::invalid_argument);
    EXPECT_NE(joined.error().reason().find("LanOptions::transport.security holds a policy other than"),
              std::string::npos)
        << joined.error().reason();
    EXPECT_FALSE(options.transport);
    EXPECT_FALSE(options.discovery);

    LanOptions beacons_other = lan_options(policy);
    beacons_other.discovery.security = other;
    joined = join_lan(options, std::move(beacons_other));
    ASSERT_FALSE(joined.ok());
    EXPECT_NE(joined.error().reason().find("LanOptions::discovery.security"), std::string::npos);
    EXPECT_FALSE(options.transport);

    LanOptions plain_but_one = lan_options(nullptr);  // a secure transport on a plain node
    plain_but_one.transport.security = policy;
    joined = join_lan(options, std::move(plain_but_one));
    ASSERT_FALSE(joined.ok());
    EXPECT_NE(joined.error().reason().find("LanOptions::security is null"), std::string::npos);

    LanOptions same = lan_options(policy);  // the very same object twice: one switch still
    same.transport.security = policy;
    same.discovery.security = policy;
    EXPECT_TRUE(join_lan(options, std::move(same)).ok());
    EXPECT_TRUE(options.transport);
    EXPECT_TRUE(options.discovery);

    // A second join_lan would replace the first transport: refused.
    joined = join_lan(options, lan_options(policy));
    ASSERT_FALSE(joined.ok());
    EXPECT_NE(joined.error().reason().find("already has a transport"), std::string::npos);
}

// beacons = false (`grav --connect`): no discovery, the transport still
// secured by the one policy; two such buses meet by connect_endpoint.
TEST(JoinLan, WithoutBeaconsTheTransportIsStillSecured) {
    const auto policy = *Policy::cluster_secret("the join_lan test's long cluster secret");
    LanOptions a_lan = lan_options(policy), b_lan = lan_options(policy);
    a_lan.beacons = b_lan.beacons = false;
    BusOptions probe;
    ASSERT_TRUE(join_lan(probe, lan_options(policy)).ok());  // what beacons = true would add
    EXPECT_TRUE(probe.discovery);
    auto a = lan_bus(std::move(a_lan), "connect");
    auto b = lan_bus(std::move(b_lan), "connect");
    ASSERT_TRUE(b->connect_endpoint(a->endpoint()).ok());
    ASSERT_TRUE(wait_peers(*a, 1, 5s));
    ASSERT_TRUE(wait_peers(*b, 1, 5s));
    EXPECT_TRUE(message_crosses(*a, *b));
    // A plain bus dialling them is refused by their policy: the links are CURVE.
    LanOptions plain = lan_options(nullptr);
    plain.beacons = false;
    auto stranger = lan_bus(std::move(plain), "connect");
    ASSERT_TRUE(stranger->connect_endpoint(a->endpoint()).ok());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (stat(*a, "zmq.handshake_failed") == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_GE(stat(*a, "zmq.handshake_failed"), 1U) << "a plain dial was not refused by the CURVE sockets";
    EXPECT_TRUE(stranger->peers().empty());
    EXPECT_EQ(a->peers().size(), 1U);
}

}  // namespace
}  // namespace grav

int main(int argc, char** argv) {
    grav::testkit::enter_private_network();
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
