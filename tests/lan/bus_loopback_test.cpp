// Full buses (Bus + ZeroMQ transport + beacon discovery) on one host with
// only loopback: the way tests and samples meet with no configuration. The
// process runs in a network namespace of its own when it can (root), i.e. a
// host without network; elsewhere it restricts discovery to "lo".

#include "beacon_codec.hpp"
#include "private_network.hpp"

#include <grav/beacon.hpp>
#include <grav/bus.hpp>
#include <grav/zmq.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

namespace grav {
namespace {

using namespace std::chrono_literals;

BeaconOptions beacons(std::chrono::milliseconds interval = 500ms, std::chrono::milliseconds expiry = 3000ms) {
    BeaconOptions o;
    o.interval = interval;
    o.expiry = expiry;
    if (!testkit::in_private_network()) {
        o.interface = "lo";
        o.port = testkit::test_port();
    }
    return o;
}

std::unique_ptr<Bus> make_bus(BeaconOptions o, std::string group = "lab") {
    BusOptions options;
    options.transport = zmq::transport({.bind = "tcp://127.0.0.1:0"});
    options.discovery = beacon_discovery(std::move(o));
    options.belongs_to = std::move(group);
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

TEST(BusOnLoopback, BusesFindEachOtherAndTalkWithNoConfiguration) {
    auto a = make_bus(beacons());
    auto b = make_bus(beacons());
    auto c = make_bus(beacons());
    for (auto* bus : {a.get(), b.get(), c.get()}) ASSERT_TRUE(wait_peers(*bus, 2, 3s));
    auto receiver = b->connect();
    std::atomic<int> got{0};
    ASSERT_TRUE(receiver.on_type("hello.*", [&](const Message&) { got.fetch_add(1); }).ok());
    auto sender = a->connect();
    // The subscription travels to a; send until it is in place, then once more counted.
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (got.load() == 0 && std::chrono::steady_clock::now() < deadline) {
        sender.send(Message("hello.world", "hi"));
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_GT(got.load(), 0);
}

TEST(BusOnLoopback, DestroyingABusIsACleanStopForItsPeers) {
    auto a = make_bus(beacons(10s, 30s));  // neither expiry nor heartbeats can explain a quick leave
    auto b = make_bus(beacons(10s, 30s));
    ASSERT_TRUE(wait_peers(*a, 1, 3s));
    std::atomic<bool> withdrew{false};
    a->on_peer([&](const PeerEvent& e) {
        if (e.kind == PeerEvent::Kind::left && e.reason == LeaveReason::withdrew) withdrew = true;
    });
    const auto t0 = std::chrono::steady_clock::now();
    b.reset();
    EXPECT_TRUE(wait_peers(*a, 0, 2s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_TRUE(withdrew.load());
}

TEST(BusOnLoopback, ABeaconForAPortNobodyListensOnIsGivenUpOn) {
    const auto o = beacons(100ms, 600ms);
    auto a = make_bus(o);
    // A node that beacons ports nothing listens on, for two seconds.
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(o.port);
    to.sin_addr.s_addr = htonl(0x7fffffff);  // 127.255.255.255
    beacon::Beacon ghost;
    ghost.node = NodeId::random();
    ghost.direct_port = 1;
    ghost.fanout_port = 2;
    ghost.group = "lab";
    const auto bytes = beacon::encode(ghost);
    auto b = make_bus(o);
    for (int i = 0; i < 20; ++i) {
        ::sendto(fd, bytes->view().data(), bytes->size, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
        std::this_thread::sleep_for(100ms);
    }
    ::close(fd);
    // The real peer joined; the ghost never did; discovery retried it, counted.
    EXPECT_TRUE(wait_peers(*a, 1, 2s));
    for (const auto& p : a->peers()) EXPECT_NE(p.id, ghost.node);
    const auto stats = a->stats().network;
    ASSERT_TRUE(stats.contains("beacon.redial"));
    EXPECT_GE(stats.at("beacon.redial"), 1U);
    const auto t0 = std::chrono::steady_clock::now();
    a->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

}  // namespace
}  // namespace grav

int main(int argc, char** argv) {
    grav::testkit::enter_private_network();
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
