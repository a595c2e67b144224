#pragma once
// First-in, first-out byte storage in large fixed-size blocks: bytes are
// appended at the back and released from the front, in the same order.
//
// Why not one allocation per entry: the resend window keeps every message
// it holds for minutes while libzmq and the bus churn small buffers around
// them, and glibc's heaps then fragment: RSS creeps while the bytes in use
// stay flat (see docs/BENCHMARKS.md, Soak). Blocks of one size
// are recycled as a whole instead, so the window's memory is the same
// handful of blocks for as long as the node runs.

#include <cstddef>
#include <deque>
#include <memory>
#include <span>

namespace grav::zmq {

class ByteRing {
public:
    static constexpr std::size_t default_block_size = std::size_t{256} << 10;

    explicit ByteRing(std::size_t block_size = default_block_size) : block_size_(block_size) {}

    // `n` contiguous bytes at the back, valid until released. An entry
    // larger than a block gets a block of its own.
    std::span<std::byte> append(std::size_t n);
    // Releases the oldest `n` bytes still held: exactly the sizes appended,
    // in the order appended.
    void release_front(std::size_t n);
    void clear();

    // Bytes of the blocks held (in use or kept for reuse).
    [[nodiscard]] std::size_t capacity() const noexcept;

private:
    struct Block {
        std::unique_ptr<std::byte[]> data;
        std::size_t size = 0;
        std::size_t used = 0;      // appended so far
        std::size_t released = 0;  // of those, released
    };

    Block take_block(std::size_t at_least);

    std::size_t block_size_;
    std::deque<Block> blocks_;
    Block spare_;  // the last block emptied, kept for the next one needed
};

}  // namespace grav::zmq
