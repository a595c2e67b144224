#pragma once
// A bus as a prometheus-cpp Collectable: each scrape converts Bus::metrics()
// into prometheus-cpp's MetricFamily objects, which its exposer renders.
//
// Why a Collectable and not the text of Bus::metrics_text(): the exposer has
// no way to serve text it did not render (its handler only calls
// Collectables), and a Collectable keeps prometheus-cpp in charge of the
// format, the content type and compression. Both come from the same
// Bus::metrics() families, so /metrics and metrics_text() say the same.

#include <grav/bus.hpp>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace grav::metrics::detail {

// grav's families in prometheus-cpp's terms (names, help and labels as they are).
[[nodiscard]] std::vector<prometheus::MetricFamily> to_prometheus(const std::vector<MetricFamily>& families);

class BusCollectable final : public prometheus::Collectable {
public:
    explicit BusCollectable(const Bus& bus) : bus_(&bus) {}
    // On the exposer's threads, once per scrape.
    [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override {
        return to_prometheus(bus_->metrics());
    }

private:
    const Bus* bus_;
};

}  // namespace grav::metrics::detail
