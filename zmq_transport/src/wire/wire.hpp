#pragma once
// The grav wire codec (docs/PROTOCOL.md): pure bytes in, bytes out, no
// sockets, so that the tests and the fuzzer exercise exactly what runs.
//
// A control message on the wire is three ZeroMQ frames:
//   [topic]  0x00 + command name
//   [header] cereal portable binary, versioned (header version 1)
//   [body]   a cereal-encoded command body
// A data message is two: [type][data frame] (batch.hpp), the data frame
// carrying one or more records (header fields + payload) of that type.
// Decoders never throw and never trust a length they read: every failure is
// an Error(decode_failed) whose reason names what was wrong.

#include <grav/error.hpp>
#include <grav/id.hpp>
#include <grav/message.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace grav::zmq::wire {

inline constexpr std::uint16_t protocol_version = 2;
inline constexpr std::uint8_t header_version = 1;
// Endianness flag (cereal prologue) + version + seq + 3 ids + timestamp + origin.
inline constexpr std::size_t header_size = 1 + 1 + 8 + 16 * 3 + 8 + 16;

// Bounds that keep a hostile HELLO from making us allocate much.
inline constexpr std::size_t max_text = 1024;  // name, group, endpoint, interest, reason
inline constexpr std::size_t max_list = 256;   // interests, endpoints
inline constexpr std::size_t max_type = 1024;  // message type (topic frame)

enum class Control : std::uint8_t {
    hello,    // dialler -> ROUTER: who I am (body: Hello)
    welcome,  // ROUTER -> dialler: your HELLO is admitted (body empty)
    refuse,   // ROUTER -> dialler: your HELLO is refused (body: reason)
    ready,    // DEALER -> ROUTER: your SUB is subscribed at my XPUB (body: Announcement, may be empty)
    bye,     // DEALER -> ROUTER: I leave (body: Announcement of my tails, may be empty); XPUB -> SUB: (empty)
    who,     // anonymous DEALER -> ROUTER: who are you? (body empty)
    iam,     // ROUTER -> anonymous DEALER: answer to WHO (body: Hello)
    resend,  // DEALER -> ROUTER: send me again a range of one stream (body: ResendRequest)
    resent,  // DEALER -> ROUTER: one message sent again (header: its own; body: Resent)
    got,     // DEALER -> ROUTER: answer to a BYE with tails: what I took of your streams (body: Announcement)
    // Round trip (PeerTraffic::rtt): sent only to a peer whose WELCOME
    // says it answers (feature_ping), so older peers never see them.
    ping,  // DEALER -> ROUTER: answer me (body: Echo)
    pong,  // ROUTER -> DEALER: answer to PING (body: the PING's Echo, unchanged)
};

// Topic frame of a control command, e.g. "\0HELLO".
std::string_view topic_of(Control command) noexcept;
// nullopt when the topic is a data type (does not start with 0x00).
// An Error when it starts with 0x00 but names no known command.
std::optional<Result<Control>> parse_control(std::string_view topic);
// The subscription a SUB makes at a peer's XPUB to prove it is in place:
// "\0SYNC" + the subscriber's node id in canonical text.
std::string sync_topic(const NodeId& subscriber);
std::optional<NodeId> parse_sync_topic(std::string_view topic);

// A ROUTER identity / DEALER routing id: the node id in canonical text (a
// binary id could start with 0x00, which ZeroMQ reserves).
std::string routing_id(const NodeId& node);
std::optional<NodeId> parse_routing_id(std::string_view identity);

struct Header {
    std::uint64_t seq = 0;  // data: per-sender stream sequence, from 1; control: 0
    MessageId id;
    MessageId parent_id;
    MessageId reply_to;
    std::int64_t timestamp_ns = 0;  // since the Unix epoch, UTC
    NodeId origin;
};

using HeaderBytes = std::array<std::byte, header_size>;
HeaderBytes encode_header(const Header& header);
Result<Header> decode_header(std::span<const std::byte> bytes);

// The header of a control message, checked as docs/PROTOCOL.md says: a
// valid header (size, endianness flag, version), seq 0, nil parent_id and
// reply_to, timestamp 0, a nil id except in HELLO (the sender's
// incarnation), and, when `sender` is not nil, origin == sender.
Result<Header> decode_control_header(std::span<const std::byte> bytes, Control command, const NodeId& sender);

Header header_of(const Message& message, std::uint64_t seq);
// A control header: only origin is meaningful.
Header control_header(const NodeId& sender);

// Rebuilds a data message; the payload bytes are copied once, never re-encoded.
MessagePtr message_of(std::string_view type, const Header& header, std::span<const std::byte> payload);
// A data topic must be non-empty, not start with 0x00, and be at most max_type.
Status check_type(std::string_view type);

// HELLO and IAM body.
struct Hello {
    std::uint16_t protocol = protocol_version;
    NodeId node;
    std::string name;
    std::string belongs_to;
    std::vector<std::string> interests;
    // [0] ROUTER endpoint, [1] XPUB endpoint; host "*" = "the address this
    // HELLO came from".
    std::vector<std::string> endpoints;
};

std::string encode_hello(const Hello& hello);
Result<Hello> decode_hello(std::span<const std::byte> bytes);

// WELCOME body: what the admitting node can do beyond protocol 2's base.
// Empty (older nodes): nothing. Later fields may follow; they are skipped.
inline constexpr std::uint32_t feature_ping = 1;  // answers PING with PONG
struct Welcome {
    std::uint32_t features = 0;
};
std::string encode_welcome(const Welcome& welcome);
Result<Welcome> decode_welcome(std::span<const std::byte> bytes);

// PING and PONG body: a number the pinger picks and the peer echoes.
std::string encode_echo(std::uint64_t token);
Result<std::uint64_t> decode_echo(std::span<const std::byte> bytes);

std::string encode_reason(std::string_view reason);
Result<std::string> decode_reason(std::span<const std::byte> bytes);

inline std::span<const std::byte> bytes_of(std::string_view text) noexcept {
    return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

}  // namespace grav::zmq::wire
