// Beacon discovery on loopback: several instances in one process (and in
// separate processes) find each other with no configuration, see a clean
// stop at once and expire a silent peer (groups, ports, hostile datagrams and
// options: beacon_boundaries_test.cpp). The process runs in a network namespace
// of its own when it can (see private_network.hpp), i.e. a host whose only
// network is loopback.

#include "beacon_fixture.hpp"
#include "child_process.hpp"
#include "private_network.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <thread>

#ifndef GRAV_BEACON_PROBE
#error "GRAV_BEACON_PROBE must name the probe program"
#endif

namespace grav {
namespace {

using namespace std::chrono_literals;
using beacon_test::cpu_ms;
using beacon_test::fake_beacon;
using beacon_test::Node;
using beacon_test::options;
using beacon_test::RawSender;

TEST(BeaconDiscovery, TwoNodesFindEachOtherWithNoConfiguration) {
    if (!testkit::in_private_network()) {
        GTEST_SKIP()
            << "cannot create a network namespace (needs root): the zero-configuration case runs only "
               "on a host whose only network is loopback";
    }
    BeaconOptions defaults;  // nothing set: default port, every interface, broadcast
    Node a(defaults), b(defaults);
    ASSERT_TRUE(a.status) << a.status.error().what();
    ASSERT_TRUE(b.status) << b.status.error().what();
    const auto seen_by_a = a.events.wait_found(b.self.id, 2s);
    const auto seen_by_b = b.events.wait_found(a.self.id, 2s);
    ASSERT_TRUE(seen_by_a);
    ASSERT_TRUE(seen_by_b);
    EXPECT_EQ(seen_by_a->contact.host, "127.0.0.1");
    EXPECT_EQ(seen_by_a->contact.direct_port, b.contact.direct_port);
    EXPECT_EQ(seen_by_a->contact.fanout_port, b.contact.fanout_port);
    EXPECT_EQ(seen_by_b->contact.direct_port, a.contact.direct_port);
}

TEST(BeaconDiscovery, ThreeNodesFormAFullMeshAndNeverReportThemselves) {
    Node a(options()), b(options()), c(options());
    for (Node* n : {&a, &b, &c}) {
        ASSERT_TRUE(n->status) << n->status.error().what();
        n->events.alive_ = true;  // linked, as a transport would be: no redial
    }
    for (Node* n : {&a, &b, &c}) {
        for (Node* m : {&a, &b, &c}) {
            if (n != m) {
                EXPECT_TRUE(n->events.wait_found(m->self.id, 2s));
            }
        }
    }
    std::this_thread::sleep_for(300ms);  // a few more rounds: no duplicate, no self
    for (Node* n : {&a, &b, &c}) {
        EXPECT_EQ(n->events.found().size(), 2U);
        EXPECT_FALSE(n->events.wait_found(n->self.id, 0ms));
        EXPECT_GT(n->stat("beacon.own"), 0U);
        EXPECT_EQ(n->stat("beacon.peers"), 2U);
    }
}

TEST(BeaconDiscovery, NewcomerLearnsEveryoneInOneRoundTrip) {
    // Periodic beacons every 10 s: only the start beacon and the answers to
    // it can make the newcomer known within the deadline.
    const auto slow = options(10s, 30s);
    Node a(slow), b(slow);
    ASSERT_TRUE(a.events.wait_found(b.self.id, 1s));
    Node c(slow);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.events.wait_found(a.self.id, 1s));
    EXPECT_TRUE(c.events.wait_found(b.self.id, 1s));
    EXPECT_TRUE(a.events.wait_found(c.self.id, 1s));
    EXPECT_TRUE(b.events.wait_found(c.self.id, 1s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_GE(a.stat("beacon.answered"), 1U);
}

TEST(BeaconDiscovery, CleanStopIsSeenAtOnce) {
    const auto slow = options(10s, 30s);  // expiry cannot be what removes it
    Node a(slow), b(slow);
    ASSERT_TRUE(a.events.wait_found(b.self.id, 1s));
    const auto stop_at = std::chrono::steady_clock::now();
    b.discovery->stop();
    const auto lost = a.events.wait_lost(b.self.id, 1s);
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->reason, LeaveReason::withdrew);
    EXPECT_LT(lost->at - stop_at, 500ms);
    b.discovery->stop();  // idempotent
}

TEST(BeaconDiscovery, DestructionIsACleanStop) {
    const auto slow = options(10s, 30s);
    Node a(slow);
    auto b = std::make_unique<Node>(slow);
    const auto b_id = b->self.id;
    ASSERT_TRUE(a.events.wait_found(b_id, 1s));
    b.reset();
    const auto lost = a.events.wait_lost(b_id, 1s);
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->reason, LeaveReason::withdrew);
}

TEST(BeaconDiscovery, StopDoesNotWaitForTheInterval) {
    Node a(options(10s, 30s));
    ASSERT_TRUE(a.status);
    std::this_thread::sleep_for(50ms);  // the thread is in poll(), 10 s from its next beacon
    const auto t0 = std::chrono::steady_clock::now();
    a.discovery->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
}

TEST(BeaconDiscovery, SilentPeerIsDroppedAfterTheExpiry) {
    Node a(options(100ms, 600ms));
    ASSERT_TRUE(a.status);
    RawSender raw(a.discovery ? testkit::test_port() : 0);
    const auto ghost = NodeId::random();
    raw.send(fake_beacon(ghost));  // one beacon, then silence (as if SIGKILLed)
    const auto heard = std::chrono::steady_clock::now();
    ASSERT_TRUE(a.events.wait_found(ghost, 1s));
    const auto lost = a.events.wait_lost(ghost, 3s);
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->reason, LeaveReason::timed_out);
    EXPECT_GE(lost->at - heard, 600ms);
    EXPECT_LT(lost->at - heard, 1500ms);
    EXPECT_GE(a.events.alive_asked_.load(), 1);
}

TEST(BeaconDiscovery, TransportSignsOfLifeKeepASilentPeer) {
    Node a(options(100ms, 400ms));
    a.events.alive_ = true;  // its TCP link still heartbeats
    RawSender raw(testkit::test_port());
    const auto quiet = NodeId::random();
    raw.send(fake_beacon(quiet));
    ASSERT_TRUE(a.events.wait_found(quiet, 1s));
    const auto cpu_before = cpu_ms();
    EXPECT_FALSE(a.events.wait_lost(quiet, 1200ms));  // 3x the expiry
    EXPECT_GT(a.stat("beacon.kept_alive"), 0U);
    // Keeping it costs a peer_alive() call per interval, not a spinning thread.
    EXPECT_LT(cpu_ms() - cpu_before, 300.0);
    a.events.alive_ = false;  // the link died too
    const auto lost = a.events.wait_lost(quiet, 1s);
    ASSERT_TRUE(lost);
    EXPECT_EQ(lost->reason, LeaveReason::timed_out);
}

TEST(BeaconDiscovery, APeerStillBeaconingButNotLinkedIsReportedAgain) {
    // The transport lost its link (or never got one) while beacons still
    // arrive: discovery reports the peer again once per expiry so the bus
    // dials again, and stops as soon as the link is up.
    Node a(options(100ms, 300ms)), b(options(100ms, 300ms));
    ASSERT_TRUE(a.events.wait_found(b.self.id, 1s));
    std::this_thread::sleep_for(800ms);
    const auto unlinked = a.events.found().size();
    EXPECT_GE(unlinked, 2U);
    EXPECT_LE(unlinked, 4U);
    EXPECT_GE(a.stat("beacon.redial"), 1U);
    EXPECT_TRUE(a.events.lost().empty());
    a.events.alive_ = true;
    std::this_thread::sleep_for(400ms);
    const auto linked = a.events.found().size();
    std::this_thread::sleep_for(800ms);
    EXPECT_EQ(a.events.found().size(), linked);
}

TEST(BeaconDiscovery, SeparateProcessesFindEachOtherAndSeeLeaveAndCrash) {
    const auto port = std::to_string(testkit::test_port(4));
    std::vector<std::string> args{GRAV_BEACON_PROBE, "--port", port, "--interval", "100", "--expiry", "600"};
    if (!testkit::in_private_network()) {
        args.push_back("--interface");
        args.push_back("lo");
    }
    std::vector<std::unique_ptr<testkit::ChildProcess>> nodes;
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        auto argv = args;
        argv.push_back("--direct-port");
        argv.push_back(std::to_string(7100 + 2 * i));
        argv.push_back("--fanout-port");
        argv.push_back(std::to_string(7101 + 2 * i));
        nodes.push_back(std::make_unique<testkit::ChildProcess>(argv));
        ASSERT_TRUE(nodes.back()->started());
        const auto start = nodes.back()->wait_for_prefix("START ", 5s);
        ASSERT_TRUE(start);
        ids.push_back(testkit::split(*start).at(1));
    }
    const auto found = [&](std::size_t who, std::size_t whom) {
        return nodes[who]->wait_for(
            [&](const std::string& l) { return l.rfind("FOUND " + ids[whom], 0) == 0; }, 3s);
    };
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            if (i != j) {
                EXPECT_TRUE(found(i, j)) << i << " finds " << j;
            }
        }
    }
    // Clean stop (SIGTERM): the others see it withdraw.
    nodes[2]->signal(SIGTERM);
    EXPECT_EQ(nodes[2]->wait_exit(5s), 0);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_TRUE(nodes[i]->wait_for(
            [&](const std::string& l) { return l.rfind("LOST " + ids[2] + " withdrew", 0) == 0; }, 2s));
    }
    // Crash (SIGKILL): dropped after the expiry.
    nodes[1]->signal(SIGKILL);
    EXPECT_TRUE(nodes[0]->wait_for(
        [&](const std::string& l) { return l.rfind("LOST " + ids[1] + " timed_out", 0) == 0; }, 3s));
}

}  // namespace
}  // namespace grav

int main(int argc, char** argv) {
    grav::testkit::enter_private_network();
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
