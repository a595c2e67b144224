#pragma once
// A pod's bounded FIFO. A ring buffer that starts empty (an idle pod costs no
// buffer) and doubles up to its capacity, so the steady state makes no heap
// allocation per message. Not thread-safe: PodState guards it.

#include "envelope.hpp"

#include <cstddef>
#include <memory>

namespace grav::detail {

class Mailbox {
public:
    explicit Mailbox(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] bool full() const noexcept { return size_ >= capacity_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    // Appends even past capacity (the caller decides the overflow policy).
    void push(Envelope&& e);
    Envelope pop();
    // Empties the box; returns how many messages were discarded.
    std::size_t clear() noexcept;

private:
    void grow();

    std::size_t capacity_;
    std::unique_ptr<Envelope[]> ring_;  // NOLINT(modernize-avoid-c-arrays): ring storage, size is a power of two
    std::size_t ring_size_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

}  // namespace grav::detail
