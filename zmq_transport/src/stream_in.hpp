#pragma once
// One incoming stream of a peer (its fan-out of one type, or its direct
// messages to this node): which sequence number was delivered last, and what
// waits behind a gap while the gap is asked for again (RESEND).

#include <grav/message.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace grav::zmq {

struct StreamIn {
    bool started = false;        // false until a first message or announcement gives the baseline
    std::uint64_t last = 0;      // delivered in order up to here
    std::uint64_t known_to = 0;  // messages up to here exist (seen behind a gap or announced)
    std::uint64_t asked_to = 0;  // RESEND asked up to here on the current link
    // The sender's BYE said it sent up to here: awaited until the link
    // closes, then what is missing of it is lost (not asked for: the sender
    // is leaving, and it may still be on its way).
    std::uint64_t announced_to = 0;
    std::map<std::uint64_t, MessagePtr> held;  // arrived behind a gap, delivered once it is filled
    // A pending gap is given up (reported lost) then.
    std::optional<std::chrono::steady_clock::time_point> gap_deadline;

    [[nodiscard]] bool gap_pending() const noexcept { return !held.empty() || known_to > last; }
    [[nodiscard]] bool tail_pending() const noexcept { return announced_to > last; }

    // The ranges [from, to] in (last, up_to] that are neither delivered nor
    // held, whatever was asked before: what a resumed link asks for again,
    // since a request made on the old link may never have been answered.
    [[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint64_t>> holes(std::uint64_t up_to) const {
        std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
        std::uint64_t from = last + 1;
        for (const auto& entry : held) {
            const std::uint64_t seq = entry.first;
            if (seq > up_to) break;
            if (seq > from) ranges.emplace_back(from, seq - 1);
            from = std::max(from, seq + 1);
        }
        if (from <= up_to) ranges.emplace_back(from, up_to);
        return ranges;
    }
};

}  // namespace grav::zmq
