#pragma once
// The RPC sample's protocol: one request and one reply struct per
// capability, serialised with cereal (Message::of to send, as<T> to read).
// Client and server share this header, so they agree on the bytes.

#include <cereal/types/string.hpp>

#include <cstdint>
#include <string>

namespace rpc {

// Capabilities: what a server advertises (BusOptions::interests) and what a
// client tunnels to. The message type is the capability's name too.
inline constexpr const char* kAdd = "math.add";
inline constexpr const char* kUpper = "text.upper";

struct AddRequest {
    std::int64_t a = 0;
    std::int64_t b = 0;
    template <class Archive>
    void serialize(Archive& ar) { ar(a, b); }
};

struct AddReply {
    std::int64_t sum = 0;
    std::string server;  // who answered: shows the round-robin
    template <class Archive>
    void serialize(Archive& ar) { ar(sum, server); }
};

struct UpperRequest {
    std::string text;
    template <class Archive>
    void serialize(Archive& ar) { ar(text); }
};

struct UpperReply {
    std::string text;
    std::string server;
    template <class Archive>
    void serialize(Archive& ar) { ar(text, server); }
};

}  // namespace rpc
