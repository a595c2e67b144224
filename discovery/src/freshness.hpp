#pragma once
// Freshness of sealed beacons (docs/PROTOCOL.md, "Authenticated beacons"):
// the sender stamps each beacon with a strictly increasing time in ms; the
// receiver accepts a stamp only inside its clock tolerance and only above the
// last one it accepted from that node, so a captured beacon cannot be
// replayed, neither later to the same node nor, past the tolerance, to any.

#include <grav/id.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace grav::beacon {

// The sender's side: wall-clock ms, but never less than one more than the
// last stamp (several beacons in one ms; a clock stepped back).
class Stamper {
public:
    std::uint64_t next(std::uint64_t now_ms) noexcept {
        last_ = now_ms > last_ ? now_ms : last_ + 1;
        return last_;
    }

private:
    std::uint64_t last_ = 0;
};

class FreshnessGuard {
public:
    enum class Verdict : std::uint8_t {
        fresh,      // accepted, and remembered as the node's latest
        duplicate,  // the very stamp accepted last: the same beacon heard again (another path)
        replayed,   // older than the node's latest
        stale,      // outside now ± tolerance
        full,       // `capacity` nodes are remembered within the tolerance
    };

    FreshnessGuard(std::chrono::milliseconds tolerance, std::size_t capacity)
        : tolerance_ms_(static_cast<std::uint64_t>(tolerance.count())), capacity_(capacity) {}

    Verdict check(const NodeId& node, std::uint64_t stamp, std::uint64_t now_ms);

    [[nodiscard]] std::size_t remembered() const noexcept { return latest_.size(); }

private:
    std::uint64_t tolerance_ms_;
    std::size_t capacity_;
    std::unordered_map<NodeId, std::uint64_t> latest_;
};

// Milliseconds since the Unix epoch, by the system clock.
std::uint64_t wall_clock_ms();

}  // namespace grav::beacon
