#pragma once
// One log line per key per interval, for what a node says about repeated or
// hostile input: a refused peer that reconnects every 100 ms, beacons signed
// with another key every half second, a flood of forged beacons. The first
// line for a key goes out at once (the operator learns why now); the next
// only after `interval`, telling how many were held back meanwhile. Memory
// is bounded: at most `max_keys` keys are remembered; beyond that every new
// key shares one slot, so a flood from ever-new sources costs one line per
// interval in all. Used by the transports and discovery (one owner thread
// each: not thread-safe).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace grav {

class LogThrottle {
public:
    using Clock = std::chrono::steady_clock;

    explicit LogThrottle(std::chrono::milliseconds interval = std::chrono::seconds(10),
                         std::size_t max_keys = 256);

    // Whether a line about `key` may go out now. If so, how many lines about
    // it were held back since the last one (0 for the first); else nothing.
    std::optional<std::uint64_t> admit(std::string_view key, Clock::time_point now = Clock::now());

    // `line`, with " (N more like it since the last one)" when N were held back.
    [[nodiscard]] std::string annotate(std::string line, std::uint64_t held_back) const;

    [[nodiscard]] std::size_t keys() const noexcept { return slots_.size(); }

private:
    struct Slot {
        Clock::time_point last;
        std::uint64_t held_back = 0;
    };
    Slot& slot_for(std::string_view key, Clock::time_point now, bool& fresh);

    std::chrono::milliseconds interval_;
    std::size_t max_keys_;
    std::unordered_map<std::string, Slot> slots_;
    std::optional<Slot> overflow_;  // every key beyond max_keys_
};

}  // namespace grav
