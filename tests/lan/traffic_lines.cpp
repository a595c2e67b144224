#include "traffic_lines.hpp"

#include "child_process.hpp"

#include <charconv>
#include <string_view>
#include <vector>

namespace grav::testkit {
namespace {

bool number(std::string_view text, std::uint64_t& out) {
    return std::from_chars(text.data(), text.data() + text.size(), out).ec == std::errc{} && !text.empty();
}

}  // namespace

std::optional<Tick> parse_tick(const std::string& line) {
    const auto words = split(line);
    if (words.size() < 6 || words[0] != "TICK") return std::nullopt;
    Tick t;
    std::uint64_t rss = 0;
    std::uint64_t heap = 0;
    std::uint64_t held = 0;
    try {
        t.ms = std::stod(words[1]);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (!number(words[2], t.sent) || !number(words[3], rss) || !number(words[4], heap) ||
        !number(words[5], held))
        return std::nullopt;
    t.rss_kb = static_cast<long>(rss);
    t.heap_kb = static_cast<long>(heap);
    t.heap_held_kb = static_cast<long>(held);
    for (std::size_t i = 6; i < words.size(); ++i) {
        std::vector<std::string_view> parts;
        std::string_view rest = words[i];
        for (auto colon = rest.find(':'); colon != std::string_view::npos; colon = rest.find(':')) {
            parts.push_back(rest.substr(0, colon));
            rest.remove_prefix(colon + 1);
        }
        parts.push_back(rest);
        StreamCounts c;
        if (parts.size() != 6 || !number(parts[1], c.last) || !number(parts[2], c.received) ||
            !number(parts[3], c.gaps) || !number(parts[4], c.duplicates) || !number(parts[5], c.reordered))
            return std::nullopt;
        t.from[std::string(parts[0])] = c;
    }
    return t;
}

std::optional<std::pair<std::string, StreamCounts>> parse_tally(const std::string& line) {
    const auto words = split(line);
    if (words.size() != 8 || words[0] != "TALLY") return std::nullopt;
    StreamCounts c;
    if (!number(words[2], c.first) || !number(words[3], c.last) || !number(words[4], c.received) ||
        !number(words[5], c.gaps) || !number(words[6], c.duplicates) || !number(words[7], c.reordered))
        return std::nullopt;
    return std::pair{words[1], c};
}

}  // namespace grav::testkit
