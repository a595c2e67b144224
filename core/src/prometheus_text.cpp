#include "prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace grav::detail {

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_help(std::string_view help) {
    std::string out;
    out.reserve(help.size());
    for (const char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char text[32];
    constexpr double kExact = 9007199254740992.0;  // 2^53: every integer below is a double
    if (std::trunc(value) == value && std::fabs(value) < kExact) {
        const auto written = std::to_chars(text, text + sizeof text, static_cast<std::int64_t>(value));
        return {text, written.ptr};
    }
    const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
    if (ec != std::errc()) return "NaN";  // cannot happen: 32 chars hold any double
    return {text, end};
}

std::string render_prometheus_text(std::span<const MetricFamily> families) {
    std::string out;
    for (const MetricFamily& family : families) {
        out += "# HELP " + family.name + ' ' + escape_help(family.help) + '\n';
        out += "# TYPE " + family.name + ' ' + std::string(to_string(family.kind)) + '\n';
        for (const MetricSample& sample : family.samples) {
            out += family.name;
            if (!sample.labels.empty()) {
                out += '{';
                bool first = true;
                for (const auto& [name, value] : sample.labels) {
                    if (!first) out += ',';
                    first = false;
                    out += name + "=\"" + escape_label_value(value) + '"';
                }
                out += '}';
            }
            out += ' ' + format_value(sample.value) + '\n';
        }
    }
    return out;
}

}  // namespace grav::detail
