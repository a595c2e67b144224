#pragma once
// Metrics a monitoring system can read: how a module declares the counters
// its stats() map carries, and the structured snapshot Bus::metrics() returns
// (Bus::metrics_text() renders it in the Prometheus text format 0.0.4;
// grav::metrics serves it over HTTP).
//
// A stats() entry is keyed "module.name" ("zmq.bytes_sent"); its metric is
// "grav_module_name", plus "_total" for a counter. A module declares each
// key once through describe_metrics(); an entry it does not declare is still
// exported, as `untyped` with a help text saying so: nothing is left out,
// and nothing is claimed to be a counter that might not be one.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace grav {

enum class MetricKind : std::uint8_t {
    counter,  // only ever grows (until the process restarts)
    gauge,    // a current value: queue depth, peers, links
    untyped,  // not declared by its module
};

// One stats() key as its module declares it.
struct MetricInfo {
    std::string key;  // the stats() key, "zmq.messages_sent"
    MetricKind kind = MetricKind::counter;
    std::string help;  // one line for humans
};

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

struct MetricSample {
    MetricLabels labels;  // name, value; values are any UTF-8 (escaped when rendered)
    double value = 0;
};

struct MetricFamily {
    std::string name;  // a valid Prometheus name: "grav_zmq_messages_sent_total"
    MetricKind kind = MetricKind::counter;
    std::string help;
    std::vector<MetricSample> samples;
};

// "zmq.messages_sent", counter -> "grav_zmq_messages_sent_total": every
// character outside [A-Za-z0-9_] becomes '_'; "_total" is appended to a
// counter unless the key already ends so.
[[nodiscard]] std::string metric_name(std::string_view key, MetricKind kind);

// "counter", "gauge", "untyped": the words of the text format's # TYPE line.
[[nodiscard]] std::string_view to_string(MetricKind kind) noexcept;

}  // namespace grav
