#pragma once
// What a receiver knows about one origin's numbered stream (sequence numbers
// 1, 2, 3, ... in sending order): how many arrived, which are missing, which
// came twice or late. Used by the traffic node of the chaos tests and the soak.
//
//   gaps       numbers between the first and the last seen that never arrived
//   duplicates numbers that arrived more than once
//   reordered  numbers that arrived after a larger one (a gap filled late)
//
// The first number seen is the baseline: a subscriber that joins a running
// stream misses what was sent before it subscribed, which is not a loss.

#include <cstdint>
#include <map>

namespace grav::testkit {

class StreamTally {
public:
    void record(std::uint64_t seq);

    [[nodiscard]] std::uint64_t first() const noexcept { return first_; }
    [[nodiscard]] std::uint64_t last() const noexcept { return last_; }
    [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
    [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }
    [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }
    [[nodiscard]] std::uint64_t reordered() const noexcept { return reordered_; }

private:
    void fill(std::uint64_t seq);

    std::uint64_t first_ = 0;  // 0: nothing yet
    std::uint64_t last_ = 0;
    std::uint64_t received_ = 0;
    std::uint64_t gaps_ = 0;
    std::uint64_t duplicates_ = 0;
    std::uint64_t reordered_ = 0;
    // The missing numbers as ranges [lo, hi] keyed by lo: a long outage costs
    // one entry, not one per message.
    std::map<std::uint64_t, std::uint64_t> missing_;
};

}  // namespace grav::testkit
