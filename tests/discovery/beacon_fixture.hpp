#pragma once
// What the beacon discovery tests share: options on loopback, a node with its
// recorder, a sender of raw datagrams, a forged beacon, the process's CPU time.

#include "beacon_codec.hpp"
#include "private_network.hpp"
#include "recorder.hpp"

#include <grav/beacon.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace grav::beacon_test {

using namespace std::chrono_literals;
using testkit::Recorder;

inline BeaconOptions options(std::chrono::milliseconds interval = 100ms,
                             std::chrono::milliseconds expiry = 600ms) {
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
inline std::uint16_t next_ports() {
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
inline double cpu_ms() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto ms = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
    };
    return ms(u.ru_utime) + ms(u.ru_stime);
}

inline beacon::Beacon fake_beacon(NodeId id, std::uint16_t direct = 9001) {
    beacon::Beacon b;
    b.node = id;
    b.direct_port = direct;
    b.fanout_port = static_cast<std::uint16_t>(direct + 1);
    b.group = "*";
    return b;
}

}  // namespace grav::beacon_test
