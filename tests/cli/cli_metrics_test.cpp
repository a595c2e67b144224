// --metrics ADDR on the grav tool: `grav sub` and `grav pub` processes serve
// their node's metrics over HTTP while they run; the test scrapes both and
// finds the messages it had them exchange. A bad address is a usage error
// (exit 2), a port in use cannot start (exit 4).
#include "process.hpp"
#include "support/loopback.hpp"

#include <gtest/gtest.h>

#include "support/prometheus_parse.hpp"

#include <string>
#include <vector>

namespace grav::clitest {
namespace {

using namespace std::chrono_literals;
constexpr auto kLong = 10s;

std::optional<double> scrape(std::uint16_t port, const std::string& name) {
    const auto response = test::http_get(port, "/metrics", 5s);
    if (!response || response->status != 200) return std::nullopt;
    return test::parse_prometheus_text(response->body).value(name);
}

// The port in "grav: metrics at http://127.0.0.1:PORT/metrics" (-v).
std::uint16_t announced_port(const std::string& err) {
    const std::string marker = "metrics at http://127.0.0.1:";
    const auto at = err.find(marker);
    if (at == std::string::npos) return 0;
    return static_cast<std::uint16_t>(std::stoi(err.substr(at + marker.size())));
}

class CliMetrics : public ::testing::Test {
protected:
    [[nodiscard]] std::vector<std::string> grav(const std::string& name,
                                                std::vector<std::string> args) const {
        return grav_on_loopback(port_, name, std::move(args));
    }
    std::uint16_t port_ = unique_beacon_port();
};

TEST_F(CliMetrics, SubAndPubServeTheirCountersWhileTheyRun) {
    const std::uint16_t sub_port = test::free_loopback_port();
    Process sub(grav("metrics-sub",
                     {"sub", "metrics.*", "-v", "--metrics", "127.0.0.1:" + std::to_string(sub_port)}));
    ASSERT_TRUE(wait_for_stderr(sub, "subscribed", kLong)) << sub.transcript();
    const int n = 23;
    Process pub(grav("metrics-pub",
                     {"pub", "metrics.t", "hello", "-n", std::to_string(n), "--peers", "1", "--wait-peers",
                      "10000", "--linger", "20000", "--metrics", "127.0.0.1:0", "-v"}));
    int seen = 0;
    ASSERT_TRUE(sub.wait_for_line(
        [&](const std::string& l) { return l.find("hello") != std::string::npos && ++seen == n; }, kLong))
        << sub.transcript();

    ASSERT_TRUE(wait_for_stderr(pub, "metrics at http://", kLong)) << pub.transcript();
    const std::uint16_t pub_port = announced_port(pub.err());
    ASSERT_NE(pub_port, 0) << pub.transcript();
    EXPECT_EQ(scrape(pub_port, "grav_bus_sent_total"), n) << pub.transcript();
    EXPECT_EQ(scrape(sub_port, "grav_bus_received_from_peers_total"), n) << sub.transcript();
    EXPECT_EQ(scrape(sub_port, "grav_bus_peers"), 1);
}

TEST_F(CliMetrics, ABadAddressIsAUsageError) {
    Process sub(grav("bad", {"sub", "x.*", "--metrics", "localhost:9464"}));
    EXPECT_EQ(sub.wait_exit(kLong), 2) << sub.transcript();
    EXPECT_NE(sub.err().find("--metrics"), std::string::npos) << sub.err();
    EXPECT_NE(sub.err().find("localhost:9464"), std::string::npos) << sub.err();
}

TEST_F(CliMetrics, KeygenRefusesMetricsItCouldNotServe) {
    Process keygen(
        {GRAV_TOOL, "keygen", "--out", "/nonexistent-dir/never-written.key", "--metrics", "127.0.0.1:0"});
    EXPECT_EQ(keygen.wait_exit(kLong), 2) << keygen.transcript();
    EXPECT_NE(keygen.err().find("--metrics"), std::string::npos) << keygen.err();
}

TEST_F(CliMetrics, APortInUseCannotStart) {
    const std::uint16_t port = test::free_loopback_port();
    const std::string address = "127.0.0.1:" + std::to_string(port);
    Process first(grav("first", {"sub", "x.*", "-v", "--metrics", address}));
    ASSERT_TRUE(wait_for_stderr(first, "subscribed", kLong)) << first.transcript();
    Process second(grav("second", {"sub", "x.*", "--metrics", address}));
    EXPECT_EQ(second.wait_exit(kLong), 4) << second.transcript();
    EXPECT_NE(second.err().find(address), std::string::npos) << second.err();
}

}  // namespace
}  // namespace grav::clitest
