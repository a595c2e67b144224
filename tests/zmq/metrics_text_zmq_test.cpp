// Bus::metrics_text() over the real ZeroMQ transport: two buses on
// 127.0.0.1. Every transport counter is declared (none is exported
// untyped), the parse is clean, and the counters equal what was sent.
#include "test_node.hpp"

#include <grav/grav.hpp>

#include "support/prometheus_parse.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;

Bus make_bus(std::string name) {
    BusOptions options;
    options.transport = zmq::transport(fast_options());
    options.name = std::move(name);
    return Bus(std::move(options));
}

TEST(MetricsTextZmq, CountersOfTwoBusesOnLoopback) {
    Bus a = make_bus("metrics-a");
    Bus b = make_bus("metrics-b");
    Pod receiver = b.connect();
    std::atomic<int> got{0};
    receiver.on([&](const Message&) { got.fetch_add(1); });
    ASSERT_TRUE(a.connect_endpoint(b.endpoint()).ok());
    ASSERT_TRUE(a.wait_for_peer(b.node_id(), 10s));
    ASSERT_TRUE(b.wait_for_peer(a.node_id(), 10s));

    Pod sender = a.connect();
    const int n = 120;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(sender.send(Message("metrics.t", "payload")).status().ok());
    ASSERT_TRUE(test::eventually([&] { return got.load() == n; }));

    const std::string text = a.metrics_text();
    const test::ParsedText parsed = test::parse_prometheus_text(text);
    for (const auto& e : parsed.errors) ADD_FAILURE() << e;
    for (const auto& [name, family] : parsed.families) {
        EXPECT_TRUE(name.starts_with("grav_")) << name;
        EXPECT_NE(family.type, "untyped") << name << " is not declared by its module";
        EXPECT_FALSE(family.help.empty()) << name;
        EXPECT_EQ(family.type == "counter", name.ends_with("_total")) << name << " " << family.type;
    }
    EXPECT_EQ(parsed.value("grav_bus_sent_total"), n) << text;
    EXPECT_EQ(parsed.value("grav_bus_peers"), 1);
    EXPECT_EQ(parsed.families.at("grav_zmq_peer_links").type, "gauge");
    EXPECT_EQ(parsed.families.at("grav_hub_dials_in_flight").type, "gauge");
    // One peer subscribed to the type: one data message to libzmq per send.
    EXPECT_EQ(parsed.value("grav_zmq_published_total"), n) << text;
    EXPECT_GE(parsed.value("grav_zmq_bytes_sent_total").value_or(0), n * 7.0);
    const auto received = test::parse_prometheus_text(b.metrics_text());
    EXPECT_EQ(received.value("grav_bus_received_from_peers_total"), n);
    EXPECT_EQ(received.value("grav_zmq_messages_received_total"), n);

    // Per-peer series, where the transport keeps them: labelled with the peer's id and name.
    for (const PeerTraffic& t : a.peer_traffic()) {
        const std::map<std::string, std::string> labels{{"peer", t.peer.str()}, {"peer_name", "metrics-b"}};
        EXPECT_EQ(parsed.value("grav_peer_messages_sent_total", labels), static_cast<double>(t.messages_sent))
            << text;
    }
}

}  // namespace
}  // namespace grav::ztest
