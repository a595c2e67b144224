// What an eavesdropper on the wire sees: two nodes exchange a marker string
// (published and point-to-point) on 127.0.0.1 while tshark captures their
// ports. In secure mode the capture must not contain the marker; in plain
// mode it must (which proves the capture would catch a leak).
#include "test_node.hpp"

#include "child_process.hpp"
#include "support/test_util.hpp"

#include <grav/security.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;

const std::string marker = "PLAINTEXT-MARKER-7f3a9c";

struct Capture {
    std::string bytes;        // every captured TCP payload, decoded, one after another
    std::size_t packets = 0;  // packets with a payload
};

// A plain TCP listener on 127.0.0.1 whose port is in the capture filter:
// sending through it until tshark prints the bytes proves the capture runs
// (tshark says "Capturing on" before its filter is in place).
class Probe {
public:
    Probe() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        EXPECT_EQ(::listen(listener_, 4), 0);
        socklen_t length = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    Probe(const Probe&) = delete;
    Probe& operator=(const Probe&) = delete;
    ~Probe() { ::close(listener_); }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    void send(const std::string& text) const {
        const int client = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(port_);
        if (::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
            const int server = ::accept(listener_, nullptr, nullptr);
            (void)::write(client, text.data(), text.size());
            char buffer[64];
            if (server >= 0) {
                (void)::read(server, buffer, sizeof buffer);
                ::close(server);
            }
        }
        ::close(client);
    }

private:
    int listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    std::uint16_t port_ = 0;
};

std::string hex(const std::string& text) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : text) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

bool is_hex_line(const std::string& line) {
    return !line.empty() && line.size() % 2 == 0 &&
           line.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string unhex(const std::string& line) {
    std::string out;
    for (std::size_t i = 0; i + 1 < line.size(); i += 2) {
        out += static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16));
    }
    return out;
}

// Sends `text` through the probe until tshark prints it (bounded).
bool probe_seen(testkit::ChildProcess& tshark, const Probe& probe, const std::string& text) {
    const std::string wanted = hex(text);
    for (int attempt = 0; attempt < 150; ++attempt) {
        probe.send(text);
        if (tshark.wait_for([&](const std::string& l) { return l == wanted; }, 200ms)) return true;
    }
    return false;
}

// Runs two nodes (secure or not) that exchange the marker while tshark
// prints the TCP payloads on their ports.
Capture exchange_under_capture(bool secure) {
    std::shared_ptr<const security::Policy> policy;
    if (secure) policy = *security::Policy::cluster_secret("capture test cluster secret, long enough");
    auto options = [&] {
        auto o = fast_options();
        o.security = policy;
        return o;
    };
    TestNode a("a", options()), b("b", options());
    EXPECT_TRUE(a.start().ok() && b.start().ok());
    const Probe probe;
    const Contact ca = a.transport->contact(), cb = b.transport->contact();
    std::string filter = "tcp port " + std::to_string(probe.port());
    for (const auto port : {ca.direct_port, ca.fanout_port, cb.direct_port, cb.fanout_port}) {
        filter += " or tcp port " + std::to_string(port);
    }
    testkit::ChildProcess tshark({"/bin/sh", "-c",
                                  "exec " GRAV_TSHARK " -i lo -l -n -f '" + filter +
                                      "' -Y 'tcp.len>0' -T fields -e tcp.payload 2>&1"});
    EXPECT_TRUE(probe_seen(tshark, probe, "CAPTURE-STARTED")) << "tshark never captured the probe";

    EXPECT_TRUE(b.transport->connect(a.transport->endpoint()).ok());
    EXPECT_TRUE(eventually([&] { return a.events.has_joined(b.id()) && b.events.has_joined(a.id()); }, 10s));
    for (int i = 0; i < 10; ++i) a.transport->publish(make("t.secret", marker, a.id()));
    std::atomic<int> sent{0};
    for (int i = 0; i < 10; ++i) {
        b.transport->send_to(a.id(), make("t.reply", marker, b.id()), [&](Status s) {
            if (s) ++sent;
        });
    }
    EXPECT_TRUE(
        eventually([&] { return b.events.message_count() == 10 && a.events.message_count() == 10; }, 10s));
    // Packets are printed in capture order: once this one shows, all before it have.
    EXPECT_TRUE(probe_seen(tshark, probe, "CAPTURE-FLUSHED"));
    tshark.signal(SIGINT);
    EXPECT_TRUE(tshark.wait_exit(10s).has_value());
    Capture capture;
    for (const auto& line : tshark.lines()) {
        if (!is_hex_line(line) || line.find(hex("CAPTURE-")) == 0) continue;
        capture.bytes += unhex(line);
        ++capture.packets;
    }
    return capture;
}

bool capture_available() { return ::geteuid() == 0 && std::filesystem::exists(GRAV_TSHARK); }

TEST(ZmqWireCapture, PlainModeShowsThePayload) {
    if (!capture_available()) GTEST_SKIP() << "needs root and " GRAV_TSHARK " (scripts/setup.sh)";
    const Capture capture = exchange_under_capture(false);
    EXPECT_GT(capture.packets, 10u);
    EXPECT_NE(capture.bytes.find(marker), std::string::npos) << "the capture missed the plaintext";
    EXPECT_NE(capture.bytes.find("NULL"), std::string::npos);  // the ZMTP greeting names its mechanism
}

TEST(ZmqWireCapture, SecureModeShowsNoPayload) {
    if (!capture_available()) GTEST_SKIP() << "needs root and " GRAV_TSHARK " (scripts/setup.sh)";
    const Capture capture = exchange_under_capture(true);
    EXPECT_GT(capture.packets, 10u);
    EXPECT_NE(capture.bytes.find("CURVE"), std::string::npos) << "no CURVE greeting captured";
    EXPECT_EQ(capture.bytes.find(marker), std::string::npos) << "plaintext payload on the wire";
    EXPECT_EQ(capture.bytes.find("t.secret"), std::string::npos) << "plaintext message type on the wire";
}

}  // namespace
}  // namespace grav::ztest
