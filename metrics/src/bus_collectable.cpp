#include "bus_collectable.hpp"

namespace grav::metrics::detail {

std::vector<prometheus::MetricFamily> to_prometheus(const std::vector<MetricFamily>& families) {
    std::vector<prometheus::MetricFamily> out;
    out.reserve(families.size());
    for (const MetricFamily& f : families) {
        prometheus::MetricFamily family;
        family.name = f.name;
        family.help = f.help;
        family.type = f.kind == MetricKind::counter ? prometheus::MetricType::Counter
                      : f.kind == MetricKind::gauge ? prometheus::MetricType::Gauge
                                                    : prometheus::MetricType::Untyped;
        family.metric.reserve(f.samples.size());
        for (const MetricSample& s : f.samples) {
            prometheus::ClientMetric metric;
            for (const auto& [name, value] : s.labels) metric.label.push_back({name, value});
            metric.counter.value = s.value;
            metric.gauge.value = s.value;
            metric.untyped.value = s.value;
            family.metric.push_back(std::move(metric));
        }
        out.push_back(std::move(family));
    }
    return out;
}

}  // namespace grav::metrics::detail
