#include "stream_tally.hpp"

#include <iterator>

namespace grav::testkit {

void StreamTally::record(std::uint64_t seq) {
    ++received_;
    if (first_ == 0) {
        first_ = last_ = seq;
        return;
    }
    if (seq > last_) {
        if (seq > last_ + 1) {
            missing_.emplace(last_ + 1, seq - 1);
            gaps_ += seq - last_ - 1;
        }
        last_ = seq;
        return;
    }
    fill(seq);
}

// A number at or below the last seen: one below the baseline or in a gap
// came late, anything else was delivered before.
void StreamTally::fill(std::uint64_t seq) {
    if (seq < first_) {
        ++reordered_;
        return;
    }
    auto it = missing_.upper_bound(seq);
    if (it == missing_.begin()) {
        ++duplicates_;
        return;
    }
    it = std::prev(it);
    const auto [lo, hi] = *it;
    if (seq > hi) {
        ++duplicates_;
        return;
    }
    ++reordered_;
    --gaps_;
    missing_.erase(it);
    if (lo < seq) missing_.emplace(lo, seq - 1);
    if (seq < hi) missing_.emplace(seq + 1, hi);
}

}  // namespace grav::testkit
