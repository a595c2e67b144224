#include "mailbox.hpp"

#include <cassert>
#include <utility>

namespace grav::detail {

void Mailbox::push(Envelope&& e) {
    if (size_ == ring_size_) grow();
    ring_[(head_ + size_) & (ring_size_ - 1)] = std::move(e);
    ++size_;
}

Envelope Mailbox::pop() {
    assert(size_ > 0 && "pop from an empty mailbox");
    Envelope e = std::move(ring_[head_]);
    head_ = (head_ + 1) & (ring_size_ - 1);
    --size_;
    return e;
}

std::size_t Mailbox::clear() noexcept {
    const std::size_t n = size_;
    while (size_ > 0) {
        ring_[head_] = Envelope{};
        head_ = (head_ + 1) & (ring_size_ - 1);
        --size_;
    }
    head_ = 0;
    return n;
}

void Mailbox::grow() {
    const std::size_t new_size = ring_size_ == 0 ? 8 : ring_size_ * 2;
    auto next = std::make_unique<Envelope[]>(new_size);  // NOLINT(modernize-avoid-c-arrays)
    for (std::size_t i = 0; i < size_; ++i) next[i] = std::move(ring_[(head_ + i) & (ring_size_ - 1)]);
    ring_ = std::move(next);
    ring_size_ = new_size;
    head_ = 0;
}

}  // namespace grav::detail
