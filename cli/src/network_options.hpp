#pragma once
// The options every grav command shares (how this node joins the mesh), and
// their validation: each bad value becomes a one-line CliError with its exit
// code before any socket is opened.

#include "nats_options.hpp"
#include "security_options.hpp"

#include <grav/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace grav::cli {

struct NetworkOptions {
    std::string group = "*";
    std::string name;
    std::string interface;           // name, address or CIDR; also where the node listens
    std::vector<std::string> seeds;  // HOST:PORT, unicast beacons
    std::uint16_t beacon_port = 5670;
    std::vector<std::string> connect;  // tcp://HOST:PORT: manual mesh, no discovery
    std::string bind;                  // tcp://HOST:PORT where this node listens
    bool verbose = false;
    std::string metrics;  // --metrics HOST:PORT: serve the node's metrics (metrics_options.hpp)
    SecurityOptions security;
    NatsCliOptions nats;
    // Set by `grav bridge`: with --nats the node stays on its LAN too.
    bool bridge_lan = false;
};

// Adds --group, --name, --interface, --seed, --beacon-port, --connect,
// --bind, --verbose, the security and the NATS options to `app` (the top-level app;
// subcommands see them).
void add_network_options(CLI::App& app, NetworkOptions& options);

struct TcpAddress {
    std::string host;
    std::uint16_t port = 0;
};

// "tcp://HOST:PORT" (IPv6 in brackets); port 0 only when `allow_port_zero`.
Result<TcpAddress> parse_tcp_endpoint(std::string_view text, bool allow_port_zero);

// The IPv4 address of the up interface named, having, or inside `spec`
// ("lo", "127.0.0.1", "10.0.0.0/8").
Result<std::string> interface_address(std::string_view spec);

// Checks every option and returns the endpoint this node binds
// ("tcp://*:0" unless --bind or --interface say otherwise). Throws CliError.
std::string validated_bind_endpoint(const NetworkOptions& options);

}  // namespace grav::cli
