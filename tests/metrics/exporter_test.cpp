// grav::metrics::Exporter: /metrics over real HTTP on 127.0.0.1, scraped by
// the test's own client: the content type of the text format, a counter the
// test can predict, a clean parse; a picked port; clear errors for a bad
// address and a port in use; nothing listening once it is gone.
#include "support/loopback.hpp"

#include <grav/grav.hpp>
#include <grav/metrics.hpp>

#include "support/prometheus_parse.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace grav::mtest {
namespace {

using namespace std::chrono_literals;

TEST(Exporter, ServesTheBusMetricsAtSlashMetrics) {
    Bus bus;
    Pod pod = bus.connect();
    const int n = 42;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(pod.send(Message("x.t", "x")).status().ok());

    auto exporter = metrics::Exporter::serve(bus, "127.0.0.1:0");
    ASSERT_TRUE(exporter) << exporter.error().what();
    ASSERT_NE(exporter->port(), 0);
    EXPECT_EQ(exporter->address(), "127.0.0.1:" + std::to_string(exporter->port()));

    const auto response = test::http_get(exporter->port(), "/metrics", 10s);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    const std::string type =
        response->headers.count("content-type") ? response->headers.at("content-type") : "";
    // The text format; prometheus-cpp 1.0 says "text/plain; charset=utf-8"
    // without "version=0.0.4", which Prometheus reads as that format.
    EXPECT_TRUE(type.starts_with("text/plain")) << type;
    EXPECT_EQ(response->headers.count("content-encoding"), 0U);  // not asked for gzip

    const test::ParsedText parsed = test::parse_prometheus_text(response->body);
    for (const auto& e : parsed.errors) ADD_FAILURE() << e;
    EXPECT_EQ(parsed.value("grav_bus_sent_total"), n) << response->body;
    EXPECT_EQ(parsed.families.at("grav_bus_sent_total").type, "counter");
    EXPECT_EQ(parsed.families.at("grav_bus_pods").type, "gauge");
    EXPECT_EQ(parsed.value("grav_node_info", {{"node_id", bus.node_id().str()}, {"name", bus.name()}}), 1);
    // Every family of metrics_text() is served, with the same type.
    const test::ParsedText own = test::parse_prometheus_text(bus.metrics_text());
    for (const auto& [name, family] : own.families) {
        ASSERT_TRUE(parsed.families.contains(name)) << name;
        EXPECT_EQ(parsed.families.at(name).type, family.type) << name;
        EXPECT_EQ(parsed.families.at(name).help, family.help) << name;
    }

    // Each scrape is a fresh snapshot.
    ASSERT_TRUE(pod.send(Message("x.t", "one more")).status().ok());
    const auto again = test::http_get(exporter->port(), "/metrics", 10s);
    ASSERT_TRUE(again);
    EXPECT_EQ(test::parse_prometheus_text(again->body).value("grav_bus_sent_total"), n + 1);
}

TEST(Exporter, StopsListeningWhenDestroyed) {
    Bus bus;
    std::uint16_t port = 0;
    {
        auto exporter = metrics::Exporter::serve(bus, "127.0.0.1:0");
        ASSERT_TRUE(exporter) << exporter.error().what();
        port = exporter->port();
        ASSERT_TRUE(test::accepts_connections(port, 5s));
        // Moved: the moved-to one serves, the moved-from one is empty.
        metrics::Exporter moved = std::move(*exporter);
        EXPECT_EQ(moved.port(), port);
        ASSERT_TRUE(test::http_get(port, "/metrics", 10s));
    }
    EXPECT_FALSE(test::accepts_connections(port, 1s));
}

TEST(Exporter, ABadAddressIsAnInvalidArgument) {
    Bus bus;
    for (const char* address : {"", "9464", "localhost:9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:x",
                                "::1:9464", "[::1]:9464", "http://127.0.0.1:9464"}) {
        auto exporter = metrics::Exporter::serve(bus, address);
        ASSERT_FALSE(exporter) << address;
        EXPECT_EQ(exporter.error().code(), Errc::invalid_argument) << address;
        EXPECT_NE(exporter.error().reason().find(address), std::string::npos) << exporter.error().reason();
    }
}

TEST(Exporter, APortInUseIsReported) {
    Bus bus;
    auto first = metrics::Exporter::serve(bus, "127.0.0.1:0");
    ASSERT_TRUE(first) << first.error().what();
    const std::string taken = "127.0.0.1:" + std::to_string(first->port());
    auto second = metrics::Exporter::serve(bus, taken);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), Errc::transport_failed);
    EXPECT_NE(second.error().reason().find(taken), std::string::npos) << second.error().reason();
    // The first one still serves.
    EXPECT_TRUE(test::http_get(first->port(), "/metrics", 10s));
}

}  // namespace
}  // namespace grav::mtest
