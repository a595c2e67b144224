// The exporter scraped by a real Prometheus server (Debian's `prometheus`),
// started by the test on loopback with a config it writes (scrape every
// second): the count of messages the test sent arrives in Prometheus with
// the right value, read back through its HTTP query API.
#include "prometheus_server.hpp"
#include "support/loopback.hpp"

#include <grav/grav.hpp>
#include <grav/metrics.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include <thread>

namespace grav::mtest {
namespace {

using namespace std::chrono_literals;

std::optional<double> wait_for_value(const PrometheusServer& prometheus, const std::string& promql,
                                     double want, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::optional<double> last;
    while (std::chrono::steady_clock::now() < deadline) {
        last = prometheus.query(promql);
        if (last && *last == want) return last;
        std::this_thread::sleep_for(200ms);
    }
    return last;
}

TEST(Prometheus, ScrapesTheCounterOfMessagesSent) {
    if (::access(GRAV_PROMETHEUS, X_OK) != 0)
        GTEST_SKIP() << GRAV_PROMETHEUS << " is not installed (Debian: apt-get install prometheus)";
    Bus bus;
    auto exporter = metrics::Exporter::serve(bus, "127.0.0.1:0");
    ASSERT_TRUE(exporter) << exporter.error().what();
    PrometheusServer prometheus(GRAV_PROMETHEUS, exporter->port());
    ASSERT_TRUE(prometheus.wait_ready(60s)) << prometheus.log();

    Pod pod = bus.connect();
    const int n = 57;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(pod.send(Message("prom.t", "x")).status().ok());
    const std::string query = "grav_bus_sent_total{job=\"grav\"}";
    const auto value = wait_for_value(prometheus, query, n, 60s);
    ASSERT_TRUE(value) << "no series for " << query << "\n" << prometheus.log();
    EXPECT_EQ(*value, n) << prometheus.log();

    // A gauge too, and the counter keeps following what is sent.
    EXPECT_EQ(wait_for_value(prometheus, "grav_bus_pods{job=\"grav\"}", 1, 30s), 1.0);
    for (int i = 0; i < n; ++i) ASSERT_TRUE(pod.send(Message("prom.t", "x")).status().ok());
    EXPECT_EQ(wait_for_value(prometheus, query, 2 * n, 30s), 2.0 * n) << prometheus.log();
    // Prometheus saw the target up (its own series for every scrape).
    EXPECT_EQ(wait_for_value(prometheus, "up{job=\"grav\"}", 1, 10s), 1.0);
}

}  // namespace
}  // namespace grav::mtest
