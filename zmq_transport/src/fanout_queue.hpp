#pragma once
// Publishes waiting for the transport thread, already encoded: each run of
// one type is the data frame (batch.hpp) that will carry it, written by the
// thread that publishes, record by record as the messages arrive.
//
// Why on the publisher's thread: a Message made on one core and read on
// another moves its cache lines across, and comes back again when it is
// freed. Handing publishes over as pointers (and back to be freed) costs the
// publishing thread several times what encoding them here does
// (bench/zmq/publish_handover_bench.cpp; see docs/BENCHMARKS.md, ZeroMQ
// transport). Encoded, the message is freed at once where it was made, and
// what crosses to the transport thread is a few contiguous frames; the price
// is the encoding's work under the Inbox's mutex, on the caller's thread.
//
// Not thread-safe: the Inbox's mutex guards it.

#include <grav/message.hpp>

#include "string_hash.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace grav::zmq {

class FanoutQueue {
public:
    // One data frame's worth of publishes of one type, numbered from
    // first_seq on; or a publish that cannot be sent, with the reason, kept
    // in its place so that the transport thread reports it in order.
    struct Batch {
        std::string type;
        std::vector<std::byte> frame;  // prefix + records; count written when taken
        std::uint32_t count = 0;
        std::uint64_t first_seq = 0;
        std::string rejected;  // non-empty: nothing to send, only this to report
    };

    // Whether `message` is too large to share a data frame: its record
    // alone is over wire::max_batch_bytes.
    static bool travels_alone(const Message& message) noexcept;
    // Such a message, encoded into a frame of its own by the caller before it
    // takes the lock that guards the queue: copying a large payload under it
    // would hold up the transport thread. push() gives it its number.
    static Batch encode_alone(const Message& message);

    // Encodes `message` at the end of the queue, numbered next in its type;
    // or queues `encoded`, its encode_alone(), when given.
    void push(const Message& message, std::optional<Batch> encoded = std::nullopt);
    // Moves every batch to the end of `into`, their counts written into
    // their frames.
    void take(std::deque<Batch>& into);
    // Frames the transport thread is done with: keeps up to `spares_kept`
    // for new batches and leaves the rest in `frames`.
    void recycle(std::vector<std::vector<std::byte>>& frames);

    [[nodiscard]] std::size_t messages() const noexcept { return messages_; }
    [[nodiscard]] bool empty() const noexcept { return batches_.empty(); }

    // Spare frames kept for reuse: enough for a few turns of a burst, and
    // none that a large message made large (they are freed instead).
    static constexpr std::size_t spares_kept = 16;
    static constexpr std::size_t spare_capacity_max = 16 * 1024;

private:
    Batch& open_batch(const std::string& type, std::size_t record);
    std::uint64_t& last_seq(const std::string& type);

    std::vector<Batch> batches_;
    std::size_t messages_ = 0;
    // The counter of the last batch's type, which push() appends to: looked
    // up once per batch, not per message (map nodes do not move).
    std::uint64_t* open_seq_ = nullptr;
    // The last number given to each type's publishes.
    std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>> last_seq_;
    std::vector<std::vector<std::byte>> spares_;
};

}  // namespace grav::zmq
