#include "admission.hpp"

#include "endpoint.hpp"

#include <utility>

namespace grav::zmq {

HelloVerdict vet_hello(const wire::Hello& hello, std::string_view identity, std::string_view peer_address,
                       const LocalNode& self) {
    using Kind = HelloVerdict::Kind;
    const std::string address = peer_address.empty() ? "127.0.0.1" : std::string(peer_address);
    HelloVerdict v;
    v.who = "node at " + address;
    auto verdict = [&](Kind kind, std::string reason) {
        v.kind = kind;
        v.reason = std::move(reason);
        return std::move(v);
    };
    if (hello.protocol != wire::protocol_version) {
        return verdict(Kind::refuse, "unsupported protocol version " + std::to_string(hello.protocol) +
                                         " (this node speaks " + std::to_string(wire::protocol_version) +
                                         ")");
    }
    if (identity != wire::routing_id(hello.node)) {
        return verdict(Kind::malformed, "HELLO from " + address + " whose routing id is not its node id");
    }
    v.who = hello.node.short_str() + " (" + hello.name + ") at " + address;
    if (hello.node == self.id) return verdict(Kind::refuse, "it has this node's own node id");
    if (hello.endpoints.size() < 2) {
        return verdict(Kind::refuse, "HELLO lists " + std::to_string(hello.endpoints.size()) +
                                         " endpoints, needs ROUTER and XPUB");
    }
    v.peer = PeerInfo{
        .id = hello.node,
        .name = hello.name,
        .belongs_to = hello.belongs_to,
        .interests = hello.interests,
        .endpoints = {with_host(hello.endpoints[0], address), with_host(hello.endpoints[1], address)},
        .address = address,
        .last_seen = {},
    };
    for (const auto& e : v.peer.endpoints) {
        if (!parse_tcp_endpoint(e))
            return verdict(Kind::refuse, "HELLO endpoint '" + e + "' is not tcp://host:port");
    }
    v.who = v.peer.endpoints[0];
    if (!groups_match(self.belongs_to, hello.belongs_to)) {
        return verdict(Kind::refuse_group, "group '" + hello.belongs_to +
                                               "' does not mesh with this node's group '" + self.belongs_to +
                                               "'");
    }
    v.kind = Kind::admit;
    return v;
}

}  // namespace grav::zmq
