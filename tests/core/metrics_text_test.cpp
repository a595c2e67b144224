// Bus::metrics_text(): the Prometheus text format of a real bus, parsed back
// by a strict reader. Every counter of BusStats and its network map appears
// once with HELP and TYPE, counters end in _total, gauges do not, values are
// the bus's own.
#include <grav/grav.hpp>

#include "support/inproc_transport.hpp"
#include "support/prometheus_parse.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace grav::test {
namespace {

void expect_well_formed(const ParsedText& parsed) {
    for (const auto& e : parsed.errors) ADD_FAILURE() << e;
    for (const auto& [name, family] : parsed.families) {
        EXPECT_TRUE(name.starts_with("grav_")) << name;
        EXPECT_FALSE(family.help.empty()) << name;
        EXPECT_FALSE(family.type.empty()) << name;
        if (family.type == "counter") {
            EXPECT_TRUE(name.ends_with("_total")) << name;
        } else if (family.type == "gauge") {
            EXPECT_FALSE(name.ends_with("_total")) << name;
        }
    }
}

TEST(MetricsText, StandaloneBusCountsWhatItSent) {
    BusOptions options;
    options.name = "metrics-node";
    Bus bus(std::move(options));
    Pod sender = bus.connect();
    Pod receiver = bus.connect();
    std::atomic<int> got{0};
    receiver.on([&](const Message&) { got.fetch_add(1); });
    const int n = 37;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(sender.send(Message("m.t", "x")).status().ok());
    ASSERT_TRUE(eventually([&] { return got.load() == n; }));

    const std::string text = bus.metrics_text();
    const ParsedText parsed = parse_prometheus_text(text);
    expect_well_formed(parsed);
    EXPECT_EQ(parsed.value("grav_bus_sent_total"), n) << text;
    EXPECT_TRUE(eventually(
        [&] { return parse_prometheus_text(bus.metrics_text()).value("grav_bus_delivered_total") == n; }));
    EXPECT_EQ(parsed.value("grav_bus_pods"), 2);
    EXPECT_EQ(parsed.families.at("grav_bus_pods").type, "gauge");
    EXPECT_EQ(parsed.families.at("grav_bus_queue_depth").type, "gauge");
    EXPECT_EQ(parsed.families.at("grav_bus_sent_total").type, "counter");
    EXPECT_EQ(parsed.value("grav_node_info", {{"node_id", bus.node_id().str()}, {"name", "metrics-node"}}),
              1);
    for (const char* field :
         {"grav_bus_delivered_total", "grav_bus_failed_total", "grav_bus_redelivered_total",
          "grav_bus_dropped_total", "grav_bus_disconnected_by_bus_total",
          "grav_bus_received_from_peers_total", "grav_bus_peers"})
        EXPECT_TRUE(parsed.families.contains(field)) << field;
    // No network, no peers: nothing else.
    EXPECT_EQ(parsed.families.size(), 11U) << text;
}

TEST(MetricsText, LabelValuesAreEscaped) {
    BusOptions options;
    options.name = "a \"quoted\" back\\slash\nnew line";
    Bus bus(std::move(options));
    const ParsedText parsed = parse_prometheus_text(bus.metrics_text());
    expect_well_formed(parsed);
    EXPECT_EQ(parsed.value("grav_node_info", {{"node_id", bus.node_id().str()}, {"name", bus.name()}}), 1);
}

// Over a transport: every network key is exported; what the hub declares has
// its type, what the (in-process test) transport does not declare is untyped.
TEST(MetricsText, EveryNetworkCounterAppearsOnce) {
    InprocNetwork net;
    BusOptions a_options;
    a_options.transport = net.make_transport();
    Bus a(std::move(a_options));
    BusOptions b_options;
    b_options.transport = net.make_transport();
    Bus b(std::move(b_options));
    ASSERT_TRUE(a.connect_endpoint(b.endpoint()).ok());
    ASSERT_TRUE(a.wait_for_peers(1, 10s));
    ASSERT_TRUE(b.wait_for_peers(1, 10s));

    const BusStats stats = a.stats();
    const ParsedText parsed = parse_prometheus_text(a.metrics_text());
    expect_well_formed(parsed);
    std::set<std::string> names;
    for (const auto& [key, value] : stats.network) {
        bool found = false;
        for (const char* suffix : {"", "_total"}) {
            std::string name = "grav_" + key + suffix;
            for (auto& c : name) c = c == '.' ? '_' : c;
            if (parsed.families.contains(name)) {
                found = true;
                names.insert(name);
            }
        }
        EXPECT_TRUE(found) << key;
    }
    EXPECT_EQ(names.size(), stats.network.size());
    EXPECT_EQ(parsed.families.at("grav_hub_dials_in_flight").type, "gauge");
    EXPECT_EQ(parsed.families.at("grav_hub_refused_total").type, "counter");
    ASSERT_TRUE(parsed.families.contains("grav_inproc_published"));
    EXPECT_EQ(parsed.families.at("grav_inproc_published").type, "untyped");
    EXPECT_EQ(parsed.value("grav_bus_peers"), 1);
}

// The in-process transport with per-peer traffic the test sets: the
// rendering of Bus::peer_traffic() (labels, escaping, optional rtt and
// last_seen), whatever transport fills it.
class TrafficTransport final : public Transport {
public:
    explicit TrafficTransport(std::unique_ptr<Transport> inner) : inner_(std::move(inner)) {}
    void set_traffic(std::vector<PeerTraffic> traffic) {
        std::lock_guard lock(mutex_);
        traffic_ = std::move(traffic);
    }
    Status start(const LocalNode& self, TransportEvents& events) override {
        return inner_->start(self, events);
    }
    void stop() override { inner_->stop(); }
    void publish(MessagePtr message) override { inner_->publish(std::move(message)); }
    void send_to(const NodeId& peer, MessagePtr message, SendDone done) override {
        inner_->send_to(peer, std::move(message), std::move(done));
    }
    Status connect(std::string_view endpoint) override { return inner_->connect(endpoint); }
    Status connect(const Contact& contact, const NodeId& expected) override {
        return inner_->connect(contact, expected);
    }
    void drop(const NodeId& peer) override { inner_->drop(peer); }
    void subscribe(std::vector<std::string> prefixes) override { inner_->subscribe(std::move(prefixes)); }
    [[nodiscard]] std::string endpoint() const override { return inner_->endpoint(); }
    [[nodiscard]] Contact contact() const override { return inner_->contact(); }
    [[nodiscard]] bool alive(const NodeId& peer) const override { return inner_->alive(peer); }
    [[nodiscard]] std::map<std::string, std::uint64_t> stats() const override { return inner_->stats(); }
    [[nodiscard]] std::vector<PeerTraffic> traffic() const override {
        std::lock_guard lock(mutex_);
        return traffic_;
    }

private:
    std::unique_ptr<Transport> inner_;
    mutable std::mutex mutex_;
    std::vector<PeerTraffic> traffic_;
};

TEST(MetricsText, PerPeerSeriesAreLabelledWithThePeer) {
    InprocNetwork net;
    auto t = std::make_unique<TrafficTransport>(net.make_transport());
    TrafficTransport* traffic = t.get();
    BusOptions a_options;
    a_options.transport = std::move(t);
    Bus a(std::move(a_options));
    BusOptions b_options;
    b_options.transport = net.make_transport();
    b_options.name = "peer \"b\"\\";
    Bus b(std::move(b_options));
    ASSERT_TRUE(a.connect_endpoint(b.endpoint()).ok());
    ASSERT_TRUE(a.wait_for_peer(b.node_id(), 10s));

    const NodeId stranger = NodeId::random();  // a link that is no ready peer (yet): no name
    PeerTraffic known{b.node_id(),
                      11,
                      1100,
                      7,
                      700,
                      2,
                      3,
                      std::chrono::microseconds(1500),
                      std::chrono::system_clock::time_point(std::chrono::seconds(1700000000))};
    PeerTraffic unnamed{stranger, 5, 50, 0, 0, 0, 0, std::nullopt, std::nullopt};
    traffic->set_traffic({known, unnamed});

    const std::string text = a.metrics_text();
    const ParsedText parsed = parse_prometheus_text(text);
    expect_well_formed(parsed);
    const std::map<std::string, std::string> b_labels{{"peer", b.node_id().str()}, {"peer_name", b.name()}};
    const std::map<std::string, std::string> s_labels{{"peer", stranger.str()}};
    EXPECT_EQ(parsed.value("grav_peer_messages_sent_total", b_labels), 11) << text;
    EXPECT_EQ(parsed.value("grav_peer_bytes_sent_total", b_labels), 1100);
    EXPECT_EQ(parsed.value("grav_peer_messages_received_total", b_labels), 7);
    EXPECT_EQ(parsed.value("grav_peer_bytes_received_total", b_labels), 700);
    EXPECT_EQ(parsed.value("grav_peer_resent_total", b_labels), 2);
    EXPECT_EQ(parsed.value("grav_peer_lost_total", b_labels), 3);
    EXPECT_EQ(parsed.value("grav_peer_rtt_seconds", b_labels), 0.0015);
    EXPECT_EQ(parsed.value("grav_peer_last_seen_timestamp_seconds", b_labels), 1700000000);
    EXPECT_EQ(parsed.families.at("grav_peer_rtt_seconds").type, "gauge");
    EXPECT_EQ(parsed.value("grav_peer_messages_sent_total", s_labels), 5);
    // No round trip measured, never seen: no sample rather than a made-up 0.
    EXPECT_FALSE(parsed.value("grav_peer_rtt_seconds", s_labels));
    EXPECT_FALSE(parsed.value("grav_peer_last_seen_timestamp_seconds", s_labels));
}

}  // namespace
}  // namespace grav::test
