// Beacon discovery on loopback, at its edges: groups and ports keep clusters
// apart, hostile datagrams are counted and ignored, whom a node answers, a new
// id at a known address, seeds without broadcast, interfaces, bad options.

#include "beacon_fixture.hpp"
#include "private_network.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace grav {
namespace {

using namespace std::chrono_literals;
using beacon_test::fake_beacon;
using beacon_test::Node;
using beacon_test::options;
using beacon_test::RawSender;

TEST(BeaconDiscovery, NodesOfAnotherGroupAreNeverReported) {
    Node lab(options(), "lab"), other(options(), "other"), any(options(), "*");
    ASSERT_TRUE(any.events.wait_found(lab.self.id, 2s));  // '*' matches every group
    ASSERT_TRUE(any.events.wait_found(other.self.id, 2s));
    EXPECT_TRUE(lab.events.wait_found(any.self.id, 2s));
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(lab.events.wait_found(other.self.id, 0ms));
    EXPECT_FALSE(other.events.wait_found(lab.self.id, 0ms));
    EXPECT_GT(lab.stat("beacon.foreign_group"), 0U);
}

TEST(BeaconDiscovery, ClustersOnDifferentPortsDoNotMeet) {
    auto first = options();
    auto second = options();
    second.port = static_cast<std::uint16_t>(first.port + 1);
    Node a(first), b(first), c(second);
    ASSERT_TRUE(a.events.wait_found(b.self.id, 2s));
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(a.events.wait_found(c.self.id, 0ms));
    EXPECT_FALSE(c.events.wait_found(a.self.id, 0ms));
}

TEST(BeaconDiscovery, HostileDatagramsAreCountedAndIgnored) {
    Node a(options());
    ASSERT_TRUE(a.status);
    RawSender raw(testkit::test_port());
    auto good = fake_beacon(NodeId::random());
    const auto e = beacon::encode(good);
    std::vector<std::uint8_t> bytes(e->view().begin(), e->view().end());

    raw.send(std::vector<std::uint8_t>{'Z', 'R', 'E', 1, 2, 3});  // foreign
    auto future = bytes;
    future[4] = 99;
    raw.send(future);                                                        // unknown version
    raw.send(std::vector<std::uint8_t>(60000, 'G'));                         // oversized
    raw.send(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 12));  // truncated
    raw.send(std::vector<std::uint8_t>{});                                   // empty
    auto nil = good;
    nil.node = NodeId{};
    raw.send(nil);  // no id
    auto portless = fake_beacon(NodeId::random());
    portless.direct_port = 0;
    raw.send(portless);                // nothing to dial
    raw.send(fake_beacon(a.self.id));  // our own id, forged

    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (a.stat("beacon.malformed") < 4 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(a.stat("beacon.foreign"), 1U);
    EXPECT_EQ(a.stat("beacon.unknown_version"), 1U);
    EXPECT_EQ(a.stat("beacon.oversized"), 1U);
    EXPECT_EQ(a.stat("beacon.malformed"), 4U);
    EXPECT_TRUE(a.events.found().empty());

    // And it still works.
    raw.send(good);
    EXPECT_TRUE(a.events.wait_found(good.node, 1s));
}

TEST(BeaconDiscovery, AnswersNewcomersAndHellosButNotKnownPeersOrReplies) {
    Node a(options(10s, 30s));
    RawSender raw(testkit::test_port());
    auto peer = fake_beacon(NodeId::random(), 9200);
    const auto answered = [&](std::uint64_t n) {
        const auto deadline = std::chrono::steady_clock::now() + 1s;
        while (a.stat("beacon.answered") < n && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
        }
        std::this_thread::sleep_for(50ms);  // and no more than n
        return a.stat("beacon.answered");
    };
    raw.send(peer);  // unknown: answered
    EXPECT_EQ(answered(1), 1U);
    raw.send(peer);  // known now: not answered
    EXPECT_EQ(answered(1), 1U);
    peer.flags = beacon::hello;  // restarted with the same id, knows nobody: answered
    raw.send(peer);
    EXPECT_EQ(answered(2), 2U);
    auto other = fake_beacon(NodeId::random(), 9300);
    other.flags = beacon::reply;  // an answer is never answered, even from a stranger
    raw.send(other);
    EXPECT_TRUE(a.events.wait_found(other.node, 1s));
    EXPECT_EQ(answered(2), 2U);
}

TEST(BeaconDiscovery, ANewIdAtAKnownAddressReplacesTheOldOne) {
    Node a(options(10s, 30s));
    RawSender raw(testkit::test_port());
    const auto before = NodeId::random();
    const auto after = NodeId::random();
    raw.send(fake_beacon(before, 9100));
    ASSERT_TRUE(a.events.wait_found(before, 1s));
    raw.send(fake_beacon(after, 9100));  // restarted on the same ports
    const auto lost = a.events.wait_lost(before, 1s);
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->reason, LeaveReason::replaced);
    EXPECT_TRUE(a.events.wait_found(after, 1s));

    // The old id beacons again: two live nodes share that address. Both are
    // kept, with no further replacing back and forth.
    raw.send(fake_beacon(before, 9100));
    raw.send(fake_beacon(after, 9100));
    raw.send(fake_beacon(before, 9100));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(a.stat("beacon.peers"), 2U);
    EXPECT_EQ(a.stat("beacon.peers_replaced"), 1U);
    EXPECT_EQ(a.stat("beacon.address_conflict"), 1U);
}

TEST(BeaconDiscovery, SeedsWorkWithoutBroadcast) {
    // Two nodes on different beacon ports with broadcast off: only the seed
    // (unicast) can join them, and unicast beacons must keep them alive.
    auto a_opts = options(100ms, 500ms);
    a_opts.port = testkit::test_port(2);
    a_opts.broadcast = false;
    auto b_opts = a_opts;
    b_opts.port = testkit::test_port(3);
    a_opts.seeds = {"127.0.0.1:" + std::to_string(b_opts.port)};
    Node a(a_opts), b(b_opts);
    ASSERT_TRUE(a.status) << a.status.error().what();
    ASSERT_TRUE(b.status) << b.status.error().what();
    EXPECT_TRUE(a.events.wait_found(b.self.id, 1s));
    EXPECT_TRUE(b.events.wait_found(a.self.id, 1s));
    std::this_thread::sleep_for(1500ms);  // three expiries
    EXPECT_TRUE(a.events.lost().empty());
    EXPECT_TRUE(b.events.lost().empty());
}

TEST(BeaconDiscovery, InterfaceByNameAddressOrCidr) {
    for (const char* spec : {"lo", "127.0.0.1", "127.0.0.0/8"}) {
        auto o = options();
        o.interface = spec;
        Node a(o), b(o);
        ASSERT_TRUE(a.status) << spec << ": " << a.status.error().what();
        EXPECT_TRUE(a.events.wait_found(b.self.id, 2s)) << spec;
    }
}

TEST(BeaconDiscovery, BadOptionsAreRefusedWithAReason) {
    const auto refused = [](BeaconOptions o, const std::string& needle) {
        Node n(std::move(o));
        ASSERT_FALSE(n.status) << needle;
        EXPECT_NE(n.status.error().reason().find(needle), std::string::npos) << n.status.error().reason();
    };
    auto o = options();
    o.interface = "10.255.254.0/24";
    refused(o, "no up IPv4 interface");
    o.interface = "1.2.3.4/40";
    refused(o, "CIDR");
    o = options();
    o.multicast_group = "10.0.0.1";
    refused(o, "multicast");
    o = options();
    o.seeds = {"127.0.0.1"};
    refused(o, "host:port");
    o = options();
    o.seeds = {"127.0.0.1:99999"};
    refused(o, "port");
    o = options();
    o.expiry = o.interval;
    refused(o, "expiry");
}

}  // namespace
}  // namespace grav
