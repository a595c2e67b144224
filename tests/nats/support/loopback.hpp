#pragma once
// Loopback-only network probes for the NATS test harness: free ports, a
// server's client greeting, and a tiny HTTP GET for its monitoring endpoint.
// Everything talks to 127.0.0.1 by number (no name resolution), and every
// call has a deadline, so a wedged server makes a probe fail, never hang.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grav::natstest {

// `count` distinct TCP ports that were free on 127.0.0.1 a moment ago: each is
// bound to port 0 and read back, all held open together (so they differ), then
// closed. Another process may take one before the server binds it; the caller
// retries with new ports then. Never NATS' well-known 4222, 6222 or 8222.
std::vector<std::uint16_t> free_loopback_ports(std::size_t count);

// True when a TCP connect to 127.0.0.1:port succeeds and the peer's first line
// starts with "INFO " (a NATS server greeting a client), within `timeout`.
bool nats_greets(std::uint16_t port, std::chrono::milliseconds timeout);

struct HttpResponse {
    int status = 0;
    std::string body;
};
// GET `path` from 127.0.0.1:port (HTTP/1.0, connection closed by the server);
// nullopt when the connect, the exchange or the parse fails within `timeout`.
std::optional<HttpResponse> http_get(std::uint16_t port, const std::string& path,
                                     std::chrono::milliseconds timeout);

}  // namespace grav::natstest
