// A million messages from node A to a deliberately slow pod on node B (a
// separate process): all arrive, in order, with no gap: the sender is held
// back (backpressure) instead of anything being dropped.
#include "child_process.hpp"

#include "support/test_util.hpp"

#include <grav/grav.hpp>
#include <grav/zmq.hpp>

#include <gtest/gtest.h>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;

TEST(ZmqBulk, AMillionMessagesToASlowPodAllArriveInOrder) {
    const std::size_t n = grav::test::scaled(1000000, 20000);
    BusOptions o;
    // The test is about loss and order under backpressure, not liveness
    // (a stalled subscriber is not cut off: tests/zmq/liveness_test.cpp),
    // so long heartbeats keep a TSan run on a busy machine out of it.
    o.transport = zmq::transport({.bind = "tcp://127.0.0.1:0", .heartbeat_timeout = 30s});
    Bus a(std::move(o));
    Pod pod = a.connect();
    testkit::ChildProcess b({GRAV_BUS_NODE, "--name", "B", "--connect", a.endpoint(), "--peers", "1",
                             "--bulk", std::to_string(n), "--heartbeat-ms", "30000"});
    ASSERT_TRUE(b.wait_for_prefix("ready", 10s));
    ASSERT_TRUE(grav::test::eventually([&] { return a.peers().size() == 1; }, 5s));
    for (std::size_t i = 0; i < n; ++i) pod.send(Message("bulk", std::to_string(i)));
    auto done = b.wait_for_prefix("bulk " + std::to_string(n) + " ", 240s);
    ASSERT_TRUE(done.has_value()) << "last progress: " << (b.lines().empty() ? "" : b.lines().back());
    EXPECT_EQ(*done, "bulk " + std::to_string(n) + " 1") << "out of order";
    const auto stats = a.stats();
    EXPECT_EQ(stats.network.at("zmq.published"), n);
    EXPECT_EQ(stats.dropped, 0u);
    std::printf("sender held back: zmq.backpressure=%llu zmq.publish_blocked=%llu\n",
                static_cast<unsigned long long>(stats.network.at("zmq.backpressure")),
                static_cast<unsigned long long>(stats.network.at("zmq.publish_blocked")));
}

}  // namespace
}  // namespace grav::ztest
