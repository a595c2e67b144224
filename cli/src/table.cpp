#include "table.hpp"

#include "output.hpp"

#include <algorithm>
#include <cstdio>

namespace grav::cli {

std::vector<std::string> table_lines(const std::vector<Row>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    }
    std::vector<std::string> lines;
    lines.reserve(rows.size());
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
        }
        lines.push_back(std::move(line));
    }
    return lines;
}

void print_table(const std::vector<Row>& rows) {
    for (const auto& line : table_lines(rows)) print_line(line);
}

std::string bytes_text(std::uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
    return text;
}

std::string rtt_text(const std::optional<std::chrono::microseconds>& rtt) {
    if (!rtt) return "-";
    const double ms = static_cast<double>(rtt->count()) / 1000.0;
    char text[32];
    std::snprintf(text, sizeof text, ms < 10.0 ? "%.2f ms" : "%.0f ms", ms);
    return text;
}

std::string ago_text(const std::optional<std::chrono::system_clock::time_point>& when) {
    if (!when) return "-";
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() - *when);
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s ago",
                  static_cast<double>(std::max<std::int64_t>(ms.count(), 0)) / 1000.0);
    return text;
}

Row traffic_header() {
    return {"RTT", "MSGS OUT", "BYTES OUT", "MSGS IN", "BYTES IN", "RESENT", "LOST", "LAST SEEN"};
}

Row traffic_cells(const PeerTraffic* t) {
    if (t == nullptr) {
        Row none(traffic_header().size(), "-");
        return none;
    }
    return {rtt_text(t->rtt),
            std::to_string(t->messages_sent),
            bytes_text(t->bytes_sent),
            std::to_string(t->messages_received),
            bytes_text(t->bytes_received),
            std::to_string(t->resent),
            std::to_string(t->lost),
            ago_text(t->last_seen)};
}

}  // namespace grav::cli
