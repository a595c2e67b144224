// Full buses on loopback under forged plain beacons sent from a raw UDP
// socket: a forged "leaving" beacon must not cut a healthy link, and a flood
// of forged ids must leave the node serving with bounded sockets.

#include "beacon_codec.hpp"
#include "private_network.hpp"

#include <grav/beacon.hpp>
#include <grav/bus.hpp>
#include <grav/security.hpp>
#include <grav/zmq.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace grav {
namespace {

using namespace std::chrono_literals;

BeaconOptions beacons() {
    BeaconOptions o;
    if (!testkit::in_private_network()) {
        o.interface = "lo";
        o.port = testkit::test_port(7);
    }
    return o;
}

std::unique_ptr<Bus> make_bus(BeaconOptions o, std::shared_ptr<const security::Policy> policy = nullptr) {
    BusOptions options;
    o.security = policy;
    options.transport = zmq::transport({.bind = "tcp://127.0.0.1:0", .security = std::move(policy)});
    options.discovery = beacon_discovery(std::move(o));
    options.belongs_to = "lab";
    options.workers = 2;
    return std::make_unique<Bus>(std::move(options));
}

template <class F>
bool eventually(F done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return done();
}

std::uint64_t stat(const Bus& bus, const std::string& name) {
    const auto s = bus.stats().network;
    const auto it = s.find(name);
    return it == s.end() ? 0 : it->second;
}

// A raw UDP socket that broadcasts on loopback to the beacon port.
class Forger {
public:
    explicit Forger(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
        to_.sin_family = AF_INET;
        to_.sin_port = htons(port);
        to_.sin_addr.s_addr = htonl(0x7fffffff);  // 127.255.255.255
    }
    ~Forger() { ::close(fd_); }
    Forger(const Forger&) = delete;
    Forger& operator=(const Forger&) = delete;

    void send(const beacon::Beacon& b) {
        const auto bytes = beacon::encode(b);
        ASSERT_TRUE(bytes);
        ::sendto(fd_, bytes->view().data(), bytes->size, 0, reinterpret_cast<const sockaddr*>(&to_),
                 sizeof to_);
    }

private:
    int fd_;
    sockaddr_in to_{};
};

std::size_t open_fds() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.') ++n;
        }
        ::closedir(d);
    }
    return n;
}

// b streams 100 messages to a over 2.5 s while someone claims every 200 ms
// that b leaves; then b really leaves.
void stream_under_forged_leaves(const std::shared_ptr<const security::Policy>& policy) {
    const auto o = beacons();
    auto a = make_bus(o, policy);
    auto b = make_bus(o, policy);
    ASSERT_TRUE(eventually([&] { return a->peers().size() == 1 && b->peers().size() == 1; }, 3s));
    const NodeId b_id = a->peers().front().id;
    // What discovery heard, exposed for `grav pub`'s settling.
    EXPECT_TRUE(eventually([&] { return a->discovered() == std::vector<NodeId>{b_id}; }, 3s));
    std::atomic<int> left{0};
    a->on_peer([&](const PeerEvent& e) {
        if (e.kind != PeerEvent::Kind::joined) left.fetch_add(1);
    });
    std::atomic<int> got{0};
    std::atomic<bool> warm{false};
    auto receiver = a->connect();
    const Status receiver_handler = receiver.on_type("forge.*", [&](const Message& m) {
        if (m.type() == "forge.warm") {
            warm = true;
        } else {
            got.fetch_add(1);
        }
    });
    ASSERT_TRUE(receiver_handler.ok()) << receiver_handler.error().what();
    auto sender = b->connect();
    ASSERT_TRUE(eventually(
        [&] {
            sender.send(Message("forge.warm", ""));
            std::this_thread::sleep_for(20ms);
            return warm.load();
        },
        3s));

    Forger forger(o.port);
    beacon::Beacon claim;
    claim.node = b_id;
    claim.group = "lab";
    claim.flags = beacon::leaving;
    for (int i = 0; i < 100; ++i) {
        if (i % 8 == 0) forger.send(claim);
        sender.send(Message("forge.n", std::to_string(i)));
        std::this_thread::sleep_for(25ms);
    }
    EXPECT_TRUE(eventually([&] { return got.load() == 100; }, 3s)) << got.load() << " of 100";
    EXPECT_EQ(left.load(), 0) << "a forged leaving beacon ended the link";
    EXPECT_EQ(a->peers().size(), 1U);
    if (policy) {
        // Secure discovery drops the unsigned claim before the bus hears of it.
        EXPECT_GE(stat(*a, "beacon.unsigned"), 1U);
    } else {
        EXPECT_GE(stat(*a, "hub.leave_claims_ignored"), 1U);
    }

    // A real leave still ends the link at once (the transport's goodbye).
    const auto t0 = std::chrono::steady_clock::now();
    b.reset();
    EXPECT_TRUE(eventually([&] { return a->peers().empty(); }, 2s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}


TEST(ForgedBeacons, AForgedLeavingBeaconDoesNotDropAHealthyLink) { stream_under_forged_leaves(nullptr); }

TEST(ForgedBeacons, InSecureModeAnUnsignedLeavingBeaconIsIgnoredToo) {
    stream_under_forged_leaves(*security::Policy::cluster_secret("forged beacon test cluster secret"));
}

TEST(ForgedBeacons, AFloodOfForgedIdsLeavesTheNodeServingWithBoundedSockets) {
    const auto o = beacons();
    auto a = make_bus(o);
    auto server = a->connect();
    const Status server_handler = server.on_type(
        "echo", [&](const Message& m) { server.reply_to(m, Message("echo.reply", m.payload_view())); });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    std::this_thread::sleep_for(200ms);  // a's own start-up sockets
    const std::size_t before = open_fds();

    // 10,000 beacons of 10,000 ids advertising ports nobody listens on, in
    // bursts (a socket buffer holds a few hundred), watching our descriptors.
    Forger forger(o.port);
    beacon::Beacon ghost;
    ghost.group = "lab";
    std::size_t most = before;
    for (int i = 0; i < 10000; ++i) {
        ghost.node = NodeId::random();
        ghost.direct_port = static_cast<std::uint16_t>(40000 + i % 20000);
        ghost.fanout_port = static_cast<std::uint16_t>(ghost.direct_port + 1);
        forger.send(ghost);
        if (i % 50 == 49) {
            most = std::max(most, open_fds());
            std::this_thread::sleep_for(5ms);
        }
    }
    // A real peer that starts during the aftermath is served.
    auto b = make_bus(o);
    auto client = b->connect();
    bool answered = false;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!answered && std::chrono::steady_clock::now() < deadline) {
        most = std::max(most, open_fds());
        auto reply = client.send(Message("echo", "ping")).wait_until(1s);
        answered = reply.ok() && reply->payload_view() == "ping";
        if (!answered) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(answered) << "the flooded node did not answer";
    for (int i = 0; i < 40; ++i) {
        most = std::max(most, open_fds());
        std::this_thread::sleep_for(50ms);
    }
    // Each dial in flight costs a few descriptors (a DEALER, its monitor,
    // ZeroMQ's mailboxes, the TCP socket): the hub's cap of 64 (16 from one
    // host, as here) bounds them; b adds its own. Unbounded, the flood made
    // the node open over a thousand.
    std::printf("descriptors: %zu before the flood, at most %zu; beacons received %llu, dials deferred %llu\n",
                before, most, static_cast<unsigned long long>(stat(*a, "beacon.received")),
                static_cast<unsigned long long>(stat(*a, "hub.dials_deferred")));
    EXPECT_LT(most, before + 400) << "descriptors: " << before << " before the flood, at most " << most;
    EXPECT_GT(stat(*a, "hub.dials_deferred"), 0U);
    EXPECT_LE(stat(*a, "hub.dials_in_flight"), 64U);
    EXPECT_LE(stat(*a, "beacon.peers"), o.max_peers);
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
