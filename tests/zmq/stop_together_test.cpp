// Nodes that stop at the same moment (a deployment stopping every service,
// Ctrl-C in every terminal): each says in its BYE how far its streams went
// and waits for its peers' GOT (node_stop.cpp). A stopping node no longer
// reads its SUBs, so it must answer a peer's BYE at once: if it waited for
// its own stop to end, each side would wait the whole stop_flush_timeout for
// the other and then report "did not confirm" for messages that had arrived.
// Real sockets on 127.0.0.1.
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <grav/grav.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;
using Steady = std::chrono::steady_clock;

constexpr auto flush_timeout = 10s;

BusOptions bus_options() {
    auto o = fast_options();
    o.stop_flush_timeout = flush_timeout;
    BusOptions b;
    b.transport = zmq::transport(std::move(o));
    return b;
}

std::uint64_t stat(const Bus& bus, const std::string& name) { return bus.stats().network.at(name); }

// Stops both buses on two threads at once; how long the slower took.
Steady::duration stop_together(Bus& a, Bus& b) {
    const auto start = Steady::now();
    auto stop_a = std::async(std::launch::async, [&] { a.stop(); });
    auto stop_b = std::async(std::launch::async, [&] { b.stop(); });
    stop_a.get();
    stop_b.get();
    return Steady::now() - start;
}

void mesh(Bus& a, Bus& b) {
    ASSERT_TRUE(b.connect_endpoint(a.endpoint()).ok());
    ASSERT_TRUE(a.wait_for_peers(1, 10s).ok());
    ASSERT_TRUE(b.wait_for_peers(1, 10s).ok());
}

TEST(StopTogether, TwoPublishersThatStopAtOnceConfirmEachOtherWithoutWaitingTheTimeout) {
    Bus a(bus_options()), b(bus_options());
    mesh(a, b);
    std::atomic<int> at_a{0}, at_b{0};
    Pod pa = a.connect(), pb = b.connect();
    ASSERT_TRUE(pa.on_type("from.b", [&](const Message&) { ++at_a; }).ok());
    ASSERT_TRUE(pb.on_type("from.a", [&](const Message&) { ++at_b; }).ok());
    // Each must know what the other wants before the counted sends.
    ASSERT_TRUE(eventually(
        [&] {
            pa.send(Message("from.a", "probe"));
            pb.send(Message("from.b", "probe"));
            return at_a > 0 && at_b > 0;
        },
        10s));
    const int base_a = at_a, base_b = at_b;
    for (int i = 0; i < 100; ++i) {
        pa.send(Message("from.a", std::to_string(i)));
        pb.send(Message("from.b", std::to_string(i)));
    }
    ASSERT_TRUE(eventually([&] { return at_a >= base_a + 100 && at_b >= base_b + 100; }, 10s));

    const auto took = stop_together(a, b);
    // Far from the timeout either way: the test asserts that no side waited
    // it out, not how fast a stop is.
    EXPECT_LT(took, flush_timeout / 2) << "a stop waited for a GOT that came only at the other's end";
    for (const Bus* bus : {&a, &b}) {
        EXPECT_EQ(stat(*bus, "zmq.unconfirmed_at_stop"), 0u);
        EXPECT_EQ(stat(*bus, "zmq.unsent_at_stop"), 0u);
    }
}

TEST(StopTogether, NodesThatPublishedNothingStopAtOnceWithoutWaiting) {
    Bus a(bus_options()), b(bus_options());
    mesh(a, b);
    const auto took = stop_together(a, b);
    EXPECT_LT(took, flush_timeout / 2) << "a node with nothing to confirm waited for a GOT";
    for (const Bus* bus : {&a, &b}) EXPECT_EQ(stat(*bus, "zmq.unconfirmed_at_stop"), 0u);
}

}  // namespace
}  // namespace grav::ztest
