#pragma once
// The bodies of the resend protocol (docs/PROTOCOL.md, "Resending after a
// broken link"): READY's stream tails, RESEND's request and RESENT's copy of
// a message. Pure bytes, no sockets; decoders never throw and never trust a
// length they read.

#include "wire.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace grav::zmq::wire {

// Which of a sender's streams (docs/PROTOCOL.md, "Sequence numbers").
enum class StreamKind : std::uint8_t {
    fanout = 0,  // its publishes of one type
    direct = 1,  // its point-to-point messages to the receiver
};

// At most this many fan-out streams in one READY.
inline constexpr std::size_t max_announced = 65536;

// READY body: the last sequence number the sender used on each stream the
// receiver may follow, so that a gap at the end of a stream is noticed too.
// An empty body announces nothing.
struct StreamTail {
    std::string type;
    std::uint64_t last = 0;
};
struct Announcement {
    std::uint64_t direct_last = 0;
    std::vector<StreamTail> fanout;
};
std::string encode_announcement(const Announcement& announcement);
Result<Announcement> decode_announcement(std::span<const std::byte> bytes);

// RESEND body: please send me again [from, to] of that stream.
struct ResendRequest {
    StreamKind kind = StreamKind::fanout;
    std::string type;  // the fan-out type; empty for direct
    std::uint64_t from = 0;
    std::uint64_t to = 0;
};
std::string encode_resend(const ResendRequest& request);
Result<ResendRequest> decode_resend(std::span<const std::byte> bytes);

// RESENT body: the stream and type of the message, then its payload as is
// (the message's own header travels as the control message's header).
struct Resent {
    StreamKind kind = StreamKind::fanout;
    std::string type;
    std::span<const std::byte> payload;  // points into the decoded bytes
};
std::string encode_resent(StreamKind kind, std::string_view type, std::span<const std::byte> payload);
Result<Resent> decode_resent(std::span<const std::byte> bytes);

}  // namespace grav::zmq::wire
