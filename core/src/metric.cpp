#include <grav/metric.hpp>

namespace grav {

std::string metric_name(std::string_view key, MetricKind kind) {
    std::string name = "grav_";
    name.reserve(name.size() + key.size() + 6);
    for (const char c : key) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        name += ok ? c : '_';
    }
    if (kind == MetricKind::counter && !name.ends_with("_total")) name += "_total";
    return name;
}

std::string_view to_string(MetricKind kind) noexcept {
    switch (kind) {
        case MetricKind::counter: return "counter";
        case MetricKind::gauge: return "gauge";
        case MetricKind::untyped: break;
    }
    return "untyped";
}

}  // namespace grav
