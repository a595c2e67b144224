#pragma once
// Gap and duplicate detection for one stream of sequence numbers (a
// sender's fan-out of one type, or its direct messages to this node).

#include <cstdint>

namespace grav::zmq {

struct SequenceCheck {
    enum class Verdict { in_order, first, gap, duplicate };
    Verdict verdict;
    std::uint64_t missing = 0;  // for gap
};

class SequenceTracker {
public:
    SequenceCheck accept(std::uint64_t seq) noexcept {
        if (last_ == 0) {
            // The first we see may be mid-stream (we subscribed late): a baseline.
            last_ = seq;
            return {SequenceCheck::Verdict::first};
        }
        if (seq <= last_) return {SequenceCheck::Verdict::duplicate};
        const std::uint64_t missing = seq - last_ - 1;
        last_ = seq;
        if (missing == 0) return {SequenceCheck::Verdict::in_order};
        return {SequenceCheck::Verdict::gap, missing};
    }

private:
    std::uint64_t last_ = 0;
};

}  // namespace grav::zmq
