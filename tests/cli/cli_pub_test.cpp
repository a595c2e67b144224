// `grav pub` against several real `grav sub` processes: it waits until every
// node it heard a beacon from is ready, so all of them get every message.

#include "process.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace grav::clitest {
namespace {

using namespace std::chrono_literals;

constexpr auto kLong = 10s;  // generous: sanitizer builds are several times slower

std::vector<std::string> grav(std::uint16_t port, const std::string& name, std::vector<std::string> args) {
    return grav_on_loopback(port, name, std::move(args));
}

TEST(CliPub, OnePubReachesEverySubscriberThatIsRunning) {
    const std::uint16_t port = unique_beacon_port();
    constexpr int kSubscribers = 5;
    constexpr int kMessages = 10;
    std::vector<std::unique_ptr<Process>> subs;
    for (int i = 0; i < kSubscribers; ++i) {
        subs.push_back(std::make_unique<Process>(
            grav(port, "sub" + std::to_string(i), {"-v", "sub", "test.fan", "--count", std::to_string(kMessages)})));
    }
    // Every subscriber runs (and beacons) before the publisher starts.
    for (auto& sub : subs) ASSERT_TRUE(wait_for_stderr(*sub, "listening on", kLong)) << sub->transcript();

    Process pub(grav(port, "talker", {"-v", "pub", "test.fan", "hello", "--count", std::to_string(kMessages)}));
    ASSERT_EQ(pub.wait_exit(kLong + 5s), 0) << pub.transcript();
    int received = 0;
    for (auto& sub : subs) {
        EXPECT_EQ(sub->wait_exit(kLong), 0) << sub->transcript();
        received += static_cast<int>(sub->lines().size());
    }
    EXPECT_EQ(received, kSubscribers * kMessages) << pub.transcript();
    EXPECT_NE(pub.err().find("publishing to " + std::to_string(kSubscribers) + " peer(s): sub"), std::string::npos)
        << pub.err();
}

}  // namespace
}  // namespace grav::clitest
