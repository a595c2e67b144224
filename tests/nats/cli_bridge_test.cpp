// The grav tool across sites, as a user runs it: `grav bridge` joins each
// LAN (its own beacon port on loopback) to a real nats-server, and `--nats`
// lets a command talk through NATS alone.
#include "nats_cluster.hpp"
#include "process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <thread>

namespace grav::natstest {
namespace {

using namespace std::chrono_literals;
using clitest::Process;

constexpr auto kLong = 15s;

class CliBridge : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats_server_binary()) GTEST_SKIP() << "nats-server not installed (apt-get install nats-server)";
        cluster = NatsCluster::start(2);
    }
    // `grav` on the LAN of site `port` (loopback, that beacon port).
    static std::vector<std::string> on_site(std::uint16_t port, const std::string& name,
                                            std::vector<std::string> args) {
        std::vector<std::string> argv{GRAV_TOOL, "--interface", "lo", "--beacon-port", std::to_string(port),
                                      "--name", name};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    std::unique_ptr<NatsCluster> cluster;
};

TEST_F(CliBridge, ALinePublishedOnOneSiteIsPrintedOnTheOther) {
    const auto a = clitest::unique_beacon_port();
    auto b = clitest::unique_beacon_port();
    if (b == a) b = static_cast<std::uint16_t>(a + 1);
    Process bridge_a(on_site(a, "bridge-a", {"bridge", "--nats", cluster->url(0), "--nats-types", "chat.*"}));
    Process bridge_b(on_site(b, "bridge-b", {"bridge", "--nats", cluster->url(1), "--nats-types", "chat.*"}));
    Process sub(on_site(b, "reader", {"sub", "chat.line", "--count", "1"}));
    // Interest crosses the cluster asynchronously: publish until the reader has a line.
    Process pub(on_site(a, "writer", {"pub", "chat.line", "hello from site a", "--count", "150", "--interval", "100"}));
    EXPECT_TRUE(sub.wait_for_text("hello from site a", kLong)) << sub.transcript() << bridge_a.transcript()
                                                               << bridge_b.transcript();
    EXPECT_EQ(sub.wait_exit(kLong), 0) << sub.transcript();
    bridge_a.signal(SIGINT);
    EXPECT_EQ(bridge_a.wait_exit(kLong), 0) << bridge_a.transcript();
    EXPECT_NE(bridge_a.err().find("forwarded"), std::string::npos) << bridge_a.transcript();
}

TEST_F(CliBridge, CommandsWorkThroughNatsAloneWithNoLan) {
    Process sub({GRAV_TOOL, "sub", "chat.line", "--count", "1", "--nats", cluster->url(0)});
    Process pub({GRAV_TOOL, "pub", "chat.line", "over nats", "--count", "150", "--interval", "100", "--nats",
                 cluster->url(1)});
    EXPECT_TRUE(sub.wait_for_text("over nats", kLong)) << sub.transcript() << pub.transcript();
    EXPECT_EQ(sub.wait_exit(kLong), 0) << sub.transcript();
}

TEST_F(CliBridge, ARequestThroughNatsIsAnsweredOnASiteOrFailsAtOnceWhenNoneOffersIt) {
    const auto b = clitest::unique_beacon_port();
    Process bridge_b(on_site(b, "bridge-b", {"bridge", "--nats", cluster->url(1)}));
    Process replier(on_site(b, "upper", {"reply", "text.upper", "--command", "tr a-z A-Z"}));
    // Its note is on stderr: read (no stdout line comes) until it shows.
    for (int i = 0; i < 150 && replier.err().find("replying to 'text.upper'") == std::string::npos; ++i) {
        (void)replier.wait_for_text("\x01", 100ms);
    }
    ASSERT_NE(replier.err().find("replying to 'text.upper'"), std::string::npos) << replier.transcript();
    // The site's queue group for text.upper crosses the cluster asynchronously.
    std::optional<int> code;
    std::string out;
    for (int attempt = 0; attempt < 30; ++attempt) {
        Process request({GRAV_TOOL, "request", "text.upper", "shout", "--nats", cluster->url(0)});
        code = request.wait_exit(kLong);
        out = request.transcript();
        if (code == 0) break;
        std::this_thread::sleep_for(200ms);
    }
    ASSERT_EQ(code, 0) << out << bridge_b.transcript();
    EXPECT_NE(out.find("SHOUT"), std::string::npos) << out;

    const auto t0 = std::chrono::steady_clock::now();
    Process nobody({GRAV_TOOL, "request", "no.such.thing", "x", "--timeout", "10s", "--nats", cluster->url(0)});
    EXPECT_EQ(nobody.wait_exit(kLong), 6) << nobody.transcript();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "waited for the timeout";
    EXPECT_NE(nobody.err().find("no responders"), std::string::npos) << nobody.transcript();
}

TEST_F(CliBridge, BadNatsOptionsAreUsageErrors) {
    Process no_url({GRAV_TOOL, "bridge"});
    EXPECT_EQ(no_url.wait_exit(kLong), 2) << no_url.transcript();
    EXPECT_NE(no_url.err().find("--nats URL is required"), std::string::npos) << no_url.transcript();
    Process bad_pattern({GRAV_TOOL, "bridge", "--nats", cluster->url(0), "--nats-types", "chat*"});
    EXPECT_EQ(bad_pattern.wait_exit(kLong), 2) << bad_pattern.transcript();
    EXPECT_NE(bad_pattern.err().find("must stand alone"), std::string::npos) << bad_pattern.transcript();
}

}  // namespace
}  // namespace grav::natstest
