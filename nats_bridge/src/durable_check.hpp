#pragma once
// Durable mode's check of what the site's consumer hands over, by the
// stream's own sequence: the site's consumer reads every message of the
// group's stream (nothing is filtered on the server), so the sequences it
// sees are consecutive unless the stream removed messages before the site
// read them (max_age, limits): such a jump is that many messages lost. A
// sequence at or below the last one handled is a redelivery: dropped.
//
// It starts from the consumer's ack floor (everything at or below it was
// handled by some bridge of the site, this one or an earlier one) and never
// goes back: a floor lower than what this bridge handled means its own acks
// did not arrive yet.

#include <cstdint>

namespace grav::nats::detail {

class DurableCheck {
public:
    struct Verdict {
        bool deliver = true;
        std::uint64_t lost = 0;  // messages the stream removed just before this one
    };

    // The consumer's ack floor, read when the bridge binds to it.
    void start_from(std::uint64_t floor) {
        if (floor > last_) last_ = floor;
    }

    Verdict next(std::uint64_t seq) {
        if (seq <= last_) return {false, 0};
        const std::uint64_t lost = seq - last_ - 1;
        last_ = seq;
        return {true, lost};
    }

    [[nodiscard]] std::uint64_t last() const { return last_; }

private:
    std::uint64_t last_ = 0;
};

}  // namespace grav::nats::detail
