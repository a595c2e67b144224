#pragma once
// The config file text of one server of a test cluster, in the syntax of
// Debian's nats-server 2.9: client, monitoring and route listeners on
// 127.0.0.1 only, client authorization, JetStream, max_payload.

#include <cstdint>
#include <string>
#include <vector>

#include "nats_cluster.hpp"

namespace grav::natstest {

struct ServerPorts {
    std::uint16_t client = 0;
    std::uint16_t http = 0;     // monitoring endpoint (/healthz, /routez)
    std::uint16_t cluster = 0;  // route listener (used only in a cluster of 2 or more)
};

// Throws std::invalid_argument for options the harness cannot express: a user
// without a password (or the reverse), user and token together, or a string
// with characters outside printable ASCII or with '"' or '\'.
void validate(const NatsServerOptions& options);

// Server `index` of `all` (the ports of every server of the cluster). Routes go
// to every other server, unauthenticated: the authorization block applies to
// clients only, and routes stay on loopback. `jetstream_dir` is this server's
// store (unused without JetStream).
std::string server_config(std::size_t index, const std::vector<ServerPorts>& all,
                          const NatsServerOptions& options, const std::string& jetstream_dir);

}  // namespace grav::natstest
