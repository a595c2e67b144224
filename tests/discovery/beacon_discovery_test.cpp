// Beacon discovery on loopback: several instances in one process (and in
// separate processes) find each other with no configuration, see a clean
// stop at once, expire a silent peer, keep groups apart and survive hostile
// datagrams. The process runs in a network namespace of its own when it can
// (see private_network.hpp), i.e. a host whose only network is loopback.

#include "beacon_codec.hpp"
#include "child_process.hpp"
#include "private_network.hpp"
#include "recorder.hpp"

#include <grav/beacon.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

#ifndef GRAV_BEACON_PROBE
#error "GRAV_BEACON_PROBE must name the probe program"
#endif

namespace grav {
namespace {

using namespace std::chrono_literals;
using testkit::Recorder;

BeaconOptions options(std::chrono::milliseconds interval = 100ms, std::chrono::milliseconds expiry = 600ms) {
    BeaconOptions o;
    o.port = testkit::test_port();
    o.interval = interval;
    o.expiry = expiry;
    // In the host's namespace, never beacon on its real interfaces.
    if (!testkit::in_private_network()) o.interface = "lo";
    return o;
}

// Every node advertises ports of its own, as real nodes on one host do (a new
// id at a known address and port means a restart).
std::uint16_t next_ports() {
    static std::atomic<std::uint16_t> next{7000};
    return next.fetch_add(2);
}

struct Node {
    explicit Node(BeaconOptions o, std::string group = "*", std::uint16_t direct = next_ports()) {
        self.id = NodeId::random();
        self.belongs_to = std::move(group);
        contact.direct_port = direct;
        contact.fanout_port = static_cast<std::uint16_t>(direct + 1);
        discovery = beacon_discovery(std::move(o));
        status = discovery->start(self, contact, events);
    }
    std::uint64_t stat(const std::string& name) const {
        const auto s = discovery->stats();
        const auto it = s.find(name);
        return it == s.end() ? 0 : it->second;
    }
    LocalNode self;
    Contact contact;
    Recorder events;
    std::unique_ptr<Discovery> discovery;
    Status status;
};

// Sends raw datagrams to every node listening on `port` on this host.
class RawSender {
public:
    explicit RawSender(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
        to_.sin_family = AF_INET;
        to_.sin_port = htons(port);
        to_.sin_addr.s_addr = htonl(0x7fffffff);  // 127.255.255.255
    }
    ~RawSender() { ::close(fd_); }
    RawSender(const RawSender&) = delete;
    RawSender& operator=(const RawSender&) = delete;
    void send(const std::vector<std::uint8_t>& bytes) const {
        ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
    }
    void send(const beacon::Beacon& b) const {
        const auto e = beacon::encode(b);
        send(std::vector<std::uint8_t>(e->view().begin(), e->view().end()));
    }

private:
    int fd_;
    sockaddr_in to_{};
};

// CPU time this process used so far (user + system).
double cpu_ms() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto ms = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
    };
    return ms(u.ru_utime) + ms(u.ru_stime);
}

beacon::Beacon fake_beacon(NodeId id, std::uint16_t direct = 9001) {
    beacon::Beacon b;
    b.node = id;
    b.direct_port = direct;
    b.fanout_port = static_cast<std::uint16_t>(direct + 1);
    b.group = "*";
    return b;
}

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
