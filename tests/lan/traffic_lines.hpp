#pragma once
// Reading grav_lan_traffic's output (traffic_node.cpp): TICK and TALLY lines.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace grav::testkit {

// One origin's stream as a receiver counted it (see stream_tally.hpp).
struct StreamCounts {
    std::uint64_t first = 0;  // only in TALLY lines
    std::uint64_t last = 0;
    std::uint64_t received = 0;
    std::uint64_t gaps = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t reordered = 0;
};

struct Tick {
    double ms = 0;
    std::uint64_t sent = 0;
    long rss_kb = 0;
    long heap_kb = 0;                          // malloc's bytes in use (mallinfo2 uordblks + hblkhd)
    long heap_held_kb = 0;                     // malloc's bytes from the system (arena + hblkhd)
    std::map<std::string, StreamCounts> from;  // by origin node id

    // Received from `origin` so far (0 when nothing yet).
    [[nodiscard]] std::uint64_t received_from(const std::string& origin) const {
        const auto it = from.find(origin);
        return it == from.end() ? 0 : it->second.received;
    }
};

std::optional<Tick> parse_tick(const std::string& line);
// "TALLY <origin> ...": the origin and its counts.
std::optional<std::pair<std::string, StreamCounts>> parse_tally(const std::string& line);

}  // namespace grav::testkit
