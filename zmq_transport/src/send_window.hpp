#pragma once
// What this node sent lately, per stream, so that a peer whose link broke can
// ask for what it missed (docs/PROTOCOL.md, "Resending after a broken link").
// Bounded by message count and bytes over all streams together; the oldest
// message of the whole node goes first. Holds the messages themselves
// (shared, immutable): no copy of a payload is made.

#include "string_hash.hpp"

#include <grav/message.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace grav::zmq {

class SendWindow {
public:
    SendWindow(std::size_t max_messages, std::size_t max_bytes)
        : max_messages_(max_messages), max_bytes_(max_bytes) {}

    // Sequence numbers of one stream must be recorded in increasing order.
    void record(std::string_view stream, std::uint64_t seq, const MessagePtr& message);
    // Calls `each(seq, message)` for every entry of `stream` in [from, to]
    // still held, oldest first.
    void for_each(std::string_view stream, std::uint64_t from, std::uint64_t to,
                  const std::function<void(std::uint64_t, const MessagePtr&)>& each) const;
    // The oldest sequence number of `stream` still held (0: none).
    [[nodiscard]] std::uint64_t oldest(std::string_view stream) const;
    // Drops a stream (a direct stream whose peer is gone for good).
    void forget(std::string_view stream);

    [[nodiscard]] std::size_t messages() const noexcept { return messages_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
    // Streams known to the window (a stream emptied by eviction stays until forget()).
    [[nodiscard]] std::size_t streams() const noexcept { return streams_.size(); }

private:
    struct Entry {
        std::uint64_t seq;
        MessagePtr message;
        std::size_t bytes;
    };
    using Streams = std::unordered_map<std::string, std::deque<Entry>, StringHash, std::equal_to<>>;

    void evict();

    std::size_t max_messages_;
    std::size_t max_bytes_;
    Streams streams_;
    // One pointer per held entry, oldest first: which stream's front goes
    // next. Map nodes do not move, so the pointers stay valid until forget().
    std::deque<std::deque<Entry>*> order_;
    std::size_t messages_ = 0;
    std::size_t bytes_ = 0;
};

}  // namespace grav::zmq
