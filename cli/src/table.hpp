#pragma once
// Tables and the numbers in them, as `grav peers` and `grav stats` print
// them: columns padded to their widest cell, two blanks apart; counts in
// full (scripts compare them), bytes, round trips and ages for humans.

#include <grav/peer_traffic.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grav::cli {

using Row = std::vector<std::string>;

// Prints rows[0] (the header) and the rest, one line each.
void print_table(const std::vector<Row>& rows);
// The same as lines, without printing.
std::vector<std::string> table_lines(const std::vector<Row>& rows);

// "512 B", "1.5 KiB", "3.2 MiB".
std::string bytes_text(std::uint64_t bytes);
// "0.21 ms", "12 ms", "-" when not measured.
std::string rtt_text(const std::optional<std::chrono::microseconds>& rtt);
// "0.4 s ago", "-" when never.
std::string ago_text(const std::optional<std::chrono::system_clock::time_point>& when);

// The per-peer health columns (header cells, and one peer's cells).
Row traffic_header();
Row traffic_cells(const PeerTraffic* traffic);  // null: "-" everywhere

}  // namespace grav::cli
