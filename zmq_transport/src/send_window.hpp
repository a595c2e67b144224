#pragma once
// What this node sent lately, per stream, so that a peer whose link broke can
// ask for what it missed (docs/PROTOCOL.md, "Resending after a broken link").
// Bounded by message count and bytes over all streams together; the oldest
// message of the whole node goes first.
//
// It keeps a copy of each message as the wire carries it (encoded header,
// type, payload) in a ByteRing, not the message itself: the Message objects
// are freed as soon as they are sent, and the window's memory is a few large
// blocks reused for as long as the node runs (byte_ring.hpp says why).

#include "byte_ring.hpp"
#include "string_hash.hpp"
#include "wire/batch.hpp"

#include <grav/message.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace grav::zmq {

// One message as the window holds it: what a RESENT needs. Valid until the
// next change of the window.
struct SentMessage {
    std::uint64_t seq = 0;
    std::span<const std::byte> header;  // wire::encode_header of it, with seq
    std::string_view type;
    std::span<const std::byte> payload;
};

class SendWindow {
public:
    SendWindow(std::size_t max_messages, std::size_t max_bytes)
        : max_messages_(max_messages), max_bytes_(max_bytes) {}

    // Sequence numbers of one stream must be recorded in increasing order.
    void record(std::string_view stream, std::uint64_t seq, const Message& message) {
        if (enabled())
            append(entries(stream), wire::header_of(message, seq), message.type(), message.payload());
    }
    // The records of a published batch (decoded from its data frame, each
    // with its own number), whose messages share one stream, looked up once.
    void record_batch(std::string_view stream, std::string_view type, std::span<const wire::Record> records) {
        if (!enabled() || records.empty()) return;
        Entries& into = entries(stream);
        for (const auto& r : records) append(into, r.header, type, r.payload);
    }
    // Calls `each` for every entry of `stream` with seq in [from, to] still
    // held, oldest first.
    void for_each(std::string_view stream, std::uint64_t from, std::uint64_t to,
                  const std::function<void(const SentMessage&)>& each) const;
    // The oldest sequence number of `stream` still held (0: none).
    [[nodiscard]] std::uint64_t oldest(std::string_view stream) const;
    // Drops a stream (a direct stream whose peer is gone for good). Its
    // bytes stay in the ring, and counted, until they are the oldest.
    void forget(std::string_view stream);

    [[nodiscard]] std::size_t messages() const noexcept { return messages_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::size_t streams() const noexcept { return streams_.size(); }

private:
    struct Entry {
        std::uint64_t seq;
        const std::byte* at;  // [header][type][payload] in ring_
        std::uint32_t type_size;
        std::uint32_t payload_size;
    };
    using Entries = std::deque<Entry>;
    struct Held {
        Entries* stream;  // null once the stream is forgotten
        std::size_t bytes;
    };
    using Streams = std::unordered_map<std::string, Entries, StringHash, std::equal_to<>>;

    [[nodiscard]] bool enabled() const noexcept { return max_messages_ > 0 && max_bytes_ > 0; }
    Entries& entries(std::string_view stream);
    void append(Entries& stream, const wire::Header& header, std::string_view type,
                std::span<const std::byte> payload);
    void evict();

    std::size_t max_messages_;
    std::size_t max_bytes_;
    Streams streams_;
    // Every held entry, oldest first: its stream (whose front it is) and its
    // size in the ring. Map nodes do not move, so the pointers stay valid.
    std::deque<Held> order_;
    ByteRing ring_;
    std::size_t messages_ = 0;
    std::size_t bytes_ = 0;
};

}  // namespace grav::zmq
