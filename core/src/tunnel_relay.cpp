#include "tunnel_relay.hpp"

#include <cstdint>

namespace grav::detail {
namespace {

// The relay payload: three strings, each a u64 little-endian length and its
// bytes (the same bytes cereal's portable binary archive writes for them).
void put_string(std::string& out, std::string_view s) {
    std::uint64_t n = s.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out.append(s);
}

// False when the length runs past the end: a hostile length is never allocated.
bool take_string(std::string_view& in, std::string& out) {
    if (in.size() < 8) return false;
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    in.remove_prefix(8);
    if (n > in.size()) return false;
    out.assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
}

}  // namespace

MessagePtr wrap_tunnel(std::string_view capability, const Message& request) {
    std::string payload;
    payload.reserve(24 + capability.size() + request.type().size() + request.payload_view().size());
    put_string(payload, capability);
    put_string(payload, request.type());
    put_string(payload, request.payload_view());
    MessageHeader header = request.header();
    header.type = std::string(kTunnelRelayType);
    return std::make_shared<const Message>(std::move(header), std::move(payload));
}

Result<RelayedTunnel> unwrap_tunnel(const Message& relay) {
    std::string_view in = relay.payload_view();
    std::string capability, type, payload;
    if (!take_string(in, capability) || !take_string(in, type) || !take_string(in, payload) || !in.empty()) {
        return Error(Errc::decode_failed, "a tunnel relay from node " + relay.origin().short_str() + " (" +
                                              std::to_string(relay.payload_view().size()) +
                                              " bytes) does not decode");
    }
    if (capability.empty() || type.empty()) {
        return Error(Errc::decode_failed, "a tunnel relay from node " + relay.origin().short_str() +
                                              " names no capability or type");
    }
    MessageHeader header = relay.header();
    header.type = std::move(type);
    return RelayedTunnel{std::move(capability),
                         std::make_shared<const Message>(std::move(header), std::move(payload))};
}

MessagePtr tunnel_failure(const Message& request, const NodeId& self, std::string_view reason) {
    MessageHeader header;
    header.id = MessageId::random();
    header.parent_id = request.id();
    header.reply_to = request.id();
    header.type = std::string(kTunnelFailedType);
    header.timestamp = Clock::now();
    header.origin = self;
    return std::make_shared<const Message>(std::move(header), std::string(reason));
}

MessagePtr wrap_reply(const NodeId& target, const Message& reply) {
    std::string payload;
    payload.reserve(24 + 36 + reply.type().size() + reply.payload_view().size());
    put_string(payload, target.str());
    put_string(payload, reply.type());
    put_string(payload, reply.payload_view());
    MessageHeader header = reply.header();
    header.type = std::string(kReplyRelayType);
    return std::make_shared<const Message>(std::move(header), std::move(payload));
}

Result<RelayedReply> unwrap_reply(const Message& relay) {
    std::string_view in = relay.payload_view();
    std::string target, type, payload;
    if (!take_string(in, target) || !take_string(in, type) || !take_string(in, payload) || !in.empty()) {
        return Error(Errc::decode_failed, "a reply relay from node " + relay.origin().short_str() + " (" +
                                              std::to_string(relay.payload_view().size()) +
                                              " bytes) does not decode");
    }
    auto node = NodeId::parse(target);
    if (!node || node->is_nil() || type.empty()) {
        return Error(Errc::decode_failed,
                     "a reply relay from node " + relay.origin().short_str() + " names no node or no type");
    }
    MessageHeader header = relay.header();
    header.type = std::move(type);
    return RelayedReply{*node, std::make_shared<const Message>(std::move(header), std::move(payload))};
}

}  // namespace grav::detail
