#include "byte_ring.hpp"

#include <algorithm>
#include <utility>

namespace grav::zmq {

ByteRing::Block ByteRing::take_block(std::size_t at_least) {
    if (spare_.data && spare_.size >= at_least) {
        Block block = std::move(spare_);
        spare_ = Block{};
        block.used = 0;
        block.released = 0;
        return block;
    }
    const std::size_t size = std::max(block_size_, at_least);
    return Block{std::make_unique_for_overwrite<std::byte[]>(size), size, 0, 0};
}

std::span<std::byte> ByteRing::append(std::size_t n) {
    if (blocks_.empty() || blocks_.back().size - blocks_.back().used < n) blocks_.push_back(take_block(n));
    Block& block = blocks_.back();
    const std::span<std::byte> out(block.data.get() + block.used, n);
    block.used += n;
    return out;
}

void ByteRing::release_front(std::size_t n) {
    while (n > 0 && !blocks_.empty()) {
        Block& front = blocks_.front();
        const std::size_t here = std::min(n, front.used - front.released);
        front.released += here;
        n -= here;
        if (front.released < front.used) break;
        // Emptied: the back block stays to be filled further; any other is
        // kept as the spare (one is enough: the window frees about as fast
        // as it fills) or freed.
        if (blocks_.size() == 1 && front.size == block_size_) {
            front.used = 0;
            front.released = 0;
            break;
        }
        if (front.size == block_size_) spare_ = std::move(front);
        blocks_.pop_front();
    }
}

void ByteRing::clear() {
    blocks_.clear();
    spare_ = Block{};
}

std::size_t ByteRing::capacity() const noexcept {
    std::size_t n = spare_.size;
    for (const auto& b : blocks_) n += b.size;
    return n;
}

}  // namespace grav::zmq
