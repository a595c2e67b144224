#pragma once
// A Message is an immutable value once sent: the bus wraps it in a
// shared_ptr<const Message> and every pod (and the transport) shares that one
// object, so fan-out never copies the payload.

#include <grav/error.hpp>
#include <grav/id.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <cereal/archives/portable_binary.hpp>

namespace grav {

using Clock = std::chrono::system_clock;

// Everything about a message except its payload. Public so that a transport
// can rebuild a message it decoded from the wire, field for field.
struct MessageHeader {
    MessageId id;           // random, set when the message is created
    MessageId parent_id;    // the message this one descends from (nil if none)
    MessageId reply_to;     // the message this one answers (nil if not a reply)
    std::string type;       // dotted, e.g. "chat.line": the unit of filtering
    Clock::time_point timestamp;
    NodeId origin;          // node of the bus that first sent it (set on send)
};

class Message {
public:
    // A new message: fresh random id, timestamp now. The payload is bytes;
    // text is fine too (it is stored as is, not re-encoded).
    explicit Message(std::string type, std::string_view payload = {});
    Message(std::string type, std::span<const std::byte> payload);
    // A message rebuilt from all its parts (decoders, tests).
    Message(MessageHeader header, std::string payload)
        : header_(std::move(header)), payload_(std::move(payload)) {}

    // Typed payload, serialised with cereal's portable binary archive.
    template <class T>
    static Message of(std::string type, const T& value) {
        std::ostringstream out;
        {
            cereal::PortableBinaryOutputArchive archive(out);
            archive(value);
        }
        return Message(std::move(type), std::move(out).str(), RawTag{});
    }

    // Decodes a typed payload; an Error (never an exception) when the bytes
    // are not a T.
    template <class T>
    [[nodiscard]] Result<T> as() const {
        try {
            std::istringstream in(payload_);
            cereal::PortableBinaryInputArchive archive(in);
            T value{};
            archive(value);
            return value;
        } catch (const std::exception& e) {
            return Error(Errc::decode_failed,
                         "payload of '" + header_.type + "' (" + std::to_string(payload_.size()) +
                             " bytes) is not the requested type: " + e.what());
        }
    }

    [[nodiscard]] const MessageId& id() const noexcept { return header_.id; }
    [[nodiscard]] const MessageId& parent_id() const noexcept { return header_.parent_id; }
    [[nodiscard]] const MessageId& reply_to() const noexcept { return header_.reply_to; }
    [[nodiscard]] const std::string& type() const noexcept { return header_.type; }
    [[nodiscard]] Clock::time_point timestamp() const noexcept { return header_.timestamp; }
    [[nodiscard]] const NodeId& origin() const noexcept { return header_.origin; }
    [[nodiscard]] const MessageHeader& header() const noexcept { return header_; }

    [[nodiscard]] std::string_view payload_view() const noexcept { return payload_; }
    [[nodiscard]] std::span<const std::byte> payload() const noexcept {
        return std::as_bytes(std::span<const char>(payload_.data(), payload_.size()));
    }
    [[nodiscard]] std::size_t payload_size() const noexcept { return payload_.size(); }

    // Before sending: mark this message as descending from another one.
    Message& set_parent_id(const MessageId& parent) noexcept {
        header_.parent_id = parent;
        return *this;
    }

    // One JSON object on one line: id, parent_id, reply_to, type, timestamp
    // (RFC 3339 UTC), origin, and the payload as "payload" when it is valid
    // UTF-8 text or "payload_base64" otherwise.
    [[nodiscard]] std::string to_json() const;

private:
    friend class PodAccess;  // stamps origin and reply_to on send
    struct RawTag {};
    Message(std::string type, std::string&& payload, RawTag);

    MessageHeader header_;
    std::string payload_;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace grav
