#pragma once
// The Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): one
// "# HELP" and one "# TYPE" line per family, then its samples. Core renders
// it itself (no prometheus-cpp in core) so that any program can serve or log
// it; grav::metrics serves the same families over HTTP.

#include <grav/metric.hpp>

#include <span>
#include <string>
#include <string_view>

namespace grav::detail {

// A label value between double quotes: backslash, double quote and newline escaped.
[[nodiscard]] std::string escape_label_value(std::string_view value);
// A HELP text: backslash and newline escaped.
[[nodiscard]] std::string escape_help(std::string_view help);
// A sample value: integers exactly (counters up to 2^53), else the shortest
// text that reads back the same double; NaN and infinities as the format spells them.
[[nodiscard]] std::string format_value(double value);

[[nodiscard]] std::string render_prometheus_text(std::span<const MetricFamily> families);

}  // namespace grav::detail
