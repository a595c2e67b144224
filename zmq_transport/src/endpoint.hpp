#pragma once
// "tcp://host:port" endpoints: parsing, and the rewrites the transport needs
// (a wildcard bind is dialled at 127.0.0.1 locally, and at the address a
// HELLO came from by peers).

#include <grav/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace grav::zmq {

struct TcpEndpoint {
    std::string host;  // without IPv6 brackets
    std::uint16_t port = 0;

    [[nodiscard]] bool wildcard() const noexcept { return host == "*" || host == "0.0.0.0" || host == "::"; }
    [[nodiscard]] std::string str() const;  // "tcp://host:port", brackets for IPv6
};

Result<TcpEndpoint> parse_tcp_endpoint(std::string_view text);

// Secure mode: "tcp://host:port#KEY" names the node's public key (text form
// of grav::security::PublicKey) after the endpoint; KEY is empty without '#'.
struct KeyedEndpoint {
    std::string endpoint;
    std::string public_key;
};
KeyedEndpoint split_key_suffix(std::string_view text);

// The endpoint with a wildcard host replaced by `host`.
std::string with_host(std::string_view endpoint, std::string_view host);

}  // namespace grav::zmq
