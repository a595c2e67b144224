// Authenticated beacons on real sockets (loopback, in a network namespace of
// the test's own when it can): two secure nodes find each other and learn
// each other's key; forged, tampered, replayed and unsigned beacons sent by
// the test from a raw UDP socket are dropped and counted, and a bus never
// dials them — nothing ever connects to the TCP port they point at.

#include "beacon_codec.hpp"
#include "beacon_seal.hpp"
#include "private_network.hpp"
#include "recorder.hpp"

#include <grav/beacon.hpp>
#include <grav/bus.hpp>
#include <grav/security.hpp>
#include <grav/zmq.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace grav {
namespace {

using namespace std::chrono_literals;
using security::Identity;
using security::Policy;
using Clock = std::chrono::steady_clock;

BeaconOptions options(std::shared_ptr<const Policy> policy) {
    BeaconOptions o;
    o.port = testkit::test_port();
    o.interval = 100ms;
    o.expiry = 600ms;
    o.security = std::move(policy);
    if (!testkit::in_private_network()) o.interface = "lo";
    return o;
}

// Polls `done` every 10 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 3s) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// A UDP socket on the beacon port: sends like a node (to 127.255.255.255)
// and, bound like every node with SO_REUSEADDR, hears every beacon too.
class RawBeacons {
public:
    explicit RawBeacons(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in any{};
        any.sin_family = AF_INET;
        any.sin_port = htons(port);
        ok_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&any), sizeof any) == 0;
        to_.sin_family = AF_INET;
        to_.sin_port = htons(port);
        to_.sin_addr.s_addr = htonl(0x7fffffff);  // 127.255.255.255
    }
    ~RawBeacons() { ::close(fd_); }
    RawBeacons(const RawBeacons&) = delete;
    RawBeacons& operator=(const RawBeacons&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }

    void send(std::span<const std::uint8_t> bytes) const {
        ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
    }
    // The next beacon `node` sends that is not `leaving`, as received.
    std::vector<std::uint8_t> capture(const NodeId& node, std::chrono::milliseconds timeout = 3s) const {
        const auto deadline = Clock::now() + timeout;
        std::array<std::uint8_t, 2048> buffer{};
        while (Clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
            if (n <= 0) continue;
            std::vector<std::uint8_t> bytes(buffer.begin(), buffer.begin() + n);
            const auto decoded = beacon::decode(bytes);
            const auto* b = std::get_if<beacon::Beacon>(&decoded);
            if (b && b->node == node && !b->has(beacon::leaving)) return bytes;
        }
        return {};
    }

private:
    int fd_;
    bool ok_ = false;
    sockaddr_in to_{};
};

// A TCP port that forged beacons point at: it must never see a connection.
class Bait {
public:
    Bait() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a);
        ::listen(fd_, 16);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
    }
    ~Bait() { ::close(fd_); }
    Bait(const Bait&) = delete;
    Bait& operator=(const Bait&) = delete;
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] bool connected() const {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return false;
        ::close(c);
        return true;
    }

private:
    int fd_;
    std::uint16_t port_ = 0;
};

beacon::Beacon pointing_at(std::uint16_t port) {
    return beacon::Beacon{.node = NodeId::random(),
                          .direct_port = port,
                          .fanout_port = port,
                          .group = "lab",
                          .flags = beacon::hello,
                          .seal = {}};
}

std::uint64_t now_ms() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::uint64_t stat(const Discovery& d, const std::string& name) {
    const auto s = d.stats();
    const auto it = s.find(name);
    return it == s.end() ? 0 : it->second;
}

std::uint64_t stat(const Bus& bus, const std::string& name) {
    const auto s = bus.stats().network;
    const auto it = s.find(name);
    return it == s.end() ? 0 : it->second;
}

struct Members {
    Identity a = Identity::generate().value();
    Identity b = Identity::generate().value();
    security::PublicKey a_key = a.public_key();
    security::PublicKey b_key = b.public_key();
    std::shared_ptr<const Policy> a_policy = *Policy::allow_list(std::move(a), {b_key});
    std::shared_ptr<const Policy> b_policy = *Policy::allow_list(std::move(b), {a_key});
};

struct Node {
    Node(BeaconOptions o, std::uint16_t direct) {
        self.id = NodeId::random();
        self.belongs_to = "lab";
        contact.direct_port = direct;
        contact.fanout_port = static_cast<std::uint16_t>(direct + 1);
        discovery = beacon_discovery(std::move(o));
        status = discovery->start(self, contact, events);
    }
    LocalNode self;
    Contact contact;
    testkit::Recorder events;
    std::unique_ptr<Discovery> discovery;
    Status status;
};

// What a discovery's log callback was told, from its thread.
struct LogLines {
    std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
    std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
    std::function<void(std::string_view)> sink() const {
        return [m = mutex, l = lines](std::string_view line) {
            std::lock_guard lock(*m);
            l->emplace_back(line);
        };
    }
    std::size_t with(const std::string& part) const {
        std::lock_guard lock(*mutex);
        return static_cast<std::size_t>(
            std::count_if(lines->begin(), lines->end(),
                          [&](const std::string& l) { return l.find(part) != std::string::npos; }));
    }
};

TEST(SecureBeacons, TwoSecureNodesFindEachOtherAndLearnTheirKeys) {
    Members m;
    Node a(options(m.a_policy), 7100);
    Node b(options(m.b_policy), 7102);
    ASSERT_TRUE(a.status) << a.status.error().what();
    ASSERT_TRUE(b.status) << b.status.error().what();
    const auto b_seen = a.events.wait_found(b.self.id, 3s);
    const auto a_seen = b.events.wait_found(a.self.id, 3s);
    ASSERT_TRUE(b_seen && a_seen);
    EXPECT_EQ(b_seen->contact.public_key, m.b_key.text());
    EXPECT_EQ(a_seen->contact.public_key, m.a_key.text());
    EXPECT_EQ(b_seen->contact.direct_port, 7102);
    EXPECT_EQ(stat(*a.discovery, "beacon.bad_signature") + stat(*a.discovery, "beacon.not_admitted") +
                  stat(*a.discovery, "beacon.replayed") + stat(*a.discovery, "beacon.stale"),
              0U);
}

TEST(SecureBeacons, SecureAndPlainNodesIgnoreEachOthersBeaconsAndCountThem) {
    Members m;
    LogLines secure_log, open_log;
    BeaconOptions plain = options(nullptr);
    plain.log = open_log.sink();
    BeaconOptions signing = options(m.a_policy);
    signing.log = secure_log.sink();
    Node secure(signing, 7110);
    Node open(plain, 7112);
    ASSERT_TRUE(secure.status && open.status);
    EXPECT_TRUE(eventually([&] {
        return stat(*secure.discovery, "beacon.unsigned") >= 2 &&
               stat(*open.discovery, "beacon.signed_ignored") >= 2;
    }));
    EXPECT_EQ(secure_log.with("ignoring the plain (unsigned) beacons of node " + open.self.id.short_str()),
              1u);
    EXPECT_EQ(open_log.with("ignoring the signed beacons of node " + secure.self.id.short_str()), 1u);
    EXPECT_TRUE(secure.events.found().empty());
    EXPECT_TRUE(open.events.found().empty());
}

// Nodes of two cluster secrets never meet; each says why, with the other's
// key, once (not once per beacon), and counts every beacon it ignored.
TEST(SecureBeacons, NodesOfAnotherClusterSecretAreLoggedOnceWithTheirKeyAndCounted) {
    const auto one = *Policy::cluster_secret("the first long random cluster secret");
    const auto other = *Policy::cluster_secret("the other long random cluster secret");
    LogLines a_log, b_log;
    BeaconOptions a_options = options(one), b_options = options(other);
    a_options.log = a_log.sink();
    b_options.log = b_log.sink();
    Node a(a_options, 7120);
    Node b(b_options, 7122);
    ASSERT_TRUE(a.status && b.status);
    ASSERT_TRUE(eventually([&] {
        return stat(*a.discovery, "beacon.not_admitted") >= 5 &&
               stat(*b.discovery, "beacon.not_admitted") >= 5;
    }));
    const std::string why = "not this cluster secret's key (that node has another cluster secret)";
    EXPECT_EQ(a_log.with("node " + b.self.id.short_str()), 1u);
    EXPECT_EQ(a_log.with("signed with key " + other->identity().public_key().text() + ", " + why), 1u);
    EXPECT_EQ(b_log.with("signed with key " + one->identity().public_key().text() + ", " + why), 1u);
    EXPECT_TRUE(a.events.found().empty());
    EXPECT_TRUE(b.events.found().empty());
}

TEST(SecureBeacons, ForgedTamperedReplayedAndUnsignedBeaconsAreNeverDialled) {
    Members m;
    const security::PublicKey b_key = m.b_key;
    Bus a({.transport = zmq::transport(),
           .discovery = beacon_discovery(options(m.a_policy)),
           .belongs_to = "lab"});
    RawBeacons raw(testkit::test_port());
    ASSERT_TRUE(raw.ok());
    std::atomic<int> joined{0}, left{0};
    a.on_peer([&](const PeerEvent& e) { (e.kind == PeerEvent::Kind::joined ? joined : left).fetch_add(1); });
    auto b = std::make_unique<Bus>(BusOptions{.transport = zmq::transport(),
                                              .discovery = beacon_discovery(options(m.b_policy)),
                                              .belongs_to = "lab"});
    const NodeId b_id = b->node_id();
    ASSERT_TRUE(eventually([&] { return joined.load() == 1; }, 5s)) << "the two members never met";

    const auto captured = raw.capture(b_id);  // a genuine beacon of b, from the air
    ASSERT_FALSE(captured.empty());
    Bait bait;
    const auto found_before = stat(a, "beacon.peers_found");

    // Signed by a key that is not on a's allow list.
    const Identity stranger = Identity::generate().value();
    raw.send(beacon::encode_sealed(pointing_at(bait.port()), now_ms(), stranger).view());
    // b's genuine beacon, redirected to the bait: the signature no longer matches.
    auto redirected = captured;
    redirected[6] = static_cast<std::uint8_t>(bait.port() >> 8);
    redirected[7] = static_cast<std::uint8_t>(bait.port() & 0xff);
    raw.send(redirected);
    // A plain beacon, as a node without keys would send.
    raw.send(beacon::encode(pointing_at(bait.port()))->view());
    ASSERT_TRUE(eventually([&] {
        return stat(a, "beacon.not_admitted") >= 1 && stat(a, "beacon.bad_signature") >= 1 &&
               stat(a, "beacon.unsigned") >= 1;
    }));

    // b leaves (its signed leaving beacon is newer than the captured one);
    // then the captured beacon comes back, as if b were still there.
    b.reset();
    ASSERT_TRUE(eventually([&] { return left.load() == 1; }, 5s));
    raw.send(captured);
    ASSERT_TRUE(eventually([&] { return stat(a, "beacon.replayed") >= 1; }));

    EXPECT_EQ(stat(a, "beacon.peers_found"), found_before);
    EXPECT_EQ(joined.load(), 1);
    EXPECT_TRUE(a.peers().empty());
    EXPECT_FALSE(bait.connected()) << "a forged beacon was dialled";
    (void)b_key;
}

}  // namespace
}  // namespace grav

int main(int argc, char** argv) {
    grav::testkit::enter_private_network();
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
