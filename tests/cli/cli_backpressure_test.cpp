// A subscriber that applies backpressure (its output is not read, like
// `grav sub | (sleep 4; cat)`) while its publisher leaves, as real processes.

#include "process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace grav::clitest {
namespace {

using namespace std::chrono_literals;

constexpr auto kLong = 10s;

std::vector<std::string> grav_on_loopback(std::uint16_t port, const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv{GRAV_TOOL,       "--interface", "lo",   "--beacon-port", std::to_string(port),
                                  "--group",       "backpressure", "--name", name};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// Issue 21.0: libzmq 4.3.4 aborted the subscriber ("Assertion failed:
// !_io_error (stream_engine_base.cpp:331)") when its publisher left while
// the SUB's receive pipe was full: the SUB's next ZMTP heartbeat wrote to a
// connection that had already failed. The subscriber must live on, and end
// normally when told to.
TEST(CliBackpressure, ASlowSubscriberSurvivesItsPublisherLeaving) {
    const std::uint16_t port = unique_beacon_port();
    Process subscriber(grav_on_loopback(port, "slow", {"sub", "bp.x", "--count", "100000"}));
    Process publisher(grav_on_loopback(
        port, "fast", {"pub", "bp.x", "payload", "--count", "100000", "--interval", "0", "--wait-peers", "10000"}));
    // The subscriber's stdout is not read meanwhile: its pipe fills, its pod
    // blocks, its SUB stops reading.
    const auto published = publisher.wait_exit(kLong + 5s);
    ASSERT_TRUE(published.has_value()) << publisher.transcript();
    // The subscriber's heartbeats came every second: two of them after the
    // publisher's connection closed were enough to abort it.
    std::this_thread::sleep_for(3s);
    ASSERT_TRUE(subscriber.wait_for_line([](const std::string&) { return true; }, kLong))
        << subscriber.transcript();
    // Drain what it has, then Ctrl-C: it ends normally (not 134, SIGABRT).
    subscriber.wait_for_line([](const std::string&) { return false; }, 2s);
    subscriber.signal(SIGINT);
    const auto code = subscriber.wait_exit(kLong);
    EXPECT_EQ(code, 0) << "subscriber: " << subscriber.err();
    EXPECT_EQ(subscriber.err().find("Assertion failed"), std::string::npos) << subscriber.err();
    EXPECT_GT(subscriber.lines().size(), 1000u);
    std::printf("subscriber printed %zu lines; publisher: %s\n", subscriber.lines().size(),
                publisher.err().c_str());
}

}  // namespace
}  // namespace grav::clitest
