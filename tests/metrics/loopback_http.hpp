#pragma once
// Loopback HTTP for the metrics tests: a free port, and a tiny GET with a
// deadline (HTTP/1.0, so the server closes the connection and never chunks).
// 127.0.0.1 by number only; a wedged server makes a probe fail, never hang.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace grav::mtest {

// A TCP port that was free on 127.0.0.1 a moment ago (bound to 0, read back, closed).
std::uint16_t free_loopback_port();

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
};

// GET `target` ("/metrics", "/api/v1/query?query=...") from 127.0.0.1:port;
// nullopt when the connect, the exchange or the parse fails within `timeout`.
std::optional<HttpResponse> http_get(std::uint16_t port, const std::string& target,
                                     std::chrono::milliseconds timeout);

// True when a TCP connect to 127.0.0.1:port succeeds within `timeout`.
bool accepts_connections(std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace grav::mtest
