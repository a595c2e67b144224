#pragma once
// Loopback-only network probes for tests: free ports, a connect with a
// deadline, and a tiny HTTP GET (HTTP/1.0, so the server closes the
// connection and never chunks) for exporters and monitoring endpoints.
// Everything talks to 127.0.0.1 by number (no name resolution) and every
// call has a deadline: a wedged server makes a probe fail, never hang.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grav::test {

// A TCP socket, closed on every path.
class LoopbackSocket {
public:
    explicit LoopbackSocket(int fd) : fd_(fd) {}
    ~LoopbackSocket();
    LoopbackSocket(const LoopbackSocket&) = delete;
    LoopbackSocket& operator=(const LoopbackSocket&) = delete;
    LoopbackSocket(LoopbackSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    LoopbackSocket& operator=(LoopbackSocket&&) = delete;
    [[nodiscard]] int get() const { return fd_; }

private:
    int fd_;
};

// A connected socket to 127.0.0.1:port, or nullopt by the deadline.
std::optional<LoopbackSocket> connect_loopback(std::uint16_t port,
                                               std::chrono::steady_clock::time_point deadline);

// Reads into `into` until `done(into)` holds, EOF, an error or the deadline.
// True when `done` held or EOF came (the caller judges what arrived).
bool read_until(int fd, std::string& into, std::chrono::steady_clock::time_point deadline,
                const std::function<bool(const std::string&)>& done);

// A TCP port that was free on 127.0.0.1 a moment ago (bound to 0, read back, closed).
std::uint16_t free_loopback_port();
// `count` distinct such ports, all held open together (so they differ), then
// closed. Never NATS' well-known 4222, 6222 or 8222. Another process may take
// one before the caller binds it; the caller retries with new ports then.
std::vector<std::uint16_t> free_loopback_ports(std::size_t count);

// A port P below the kernel's ephemeral range (so no outgoing connection of
// another test takes it meanwhile) where P and P+1 are both free on
// 127.0.0.1 now: for a node bound at a fixed address, whose fan-out socket
// takes P+1. Throws when none is found in 200 tries.
std::uint16_t free_loopback_port_pair();

// True when a TCP connect to 127.0.0.1:port succeeds within `timeout`.
bool accepts_connections(std::uint16_t port, std::chrono::milliseconds timeout);

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
};

// GET `target` ("/metrics", "/varz", "/api/v1/query?query=...") from
// 127.0.0.1:port; nullopt when the connect, the exchange or the parse fails
// within `timeout`.
std::optional<HttpResponse> http_get(std::uint16_t port, const std::string& target,
                                     std::chrono::milliseconds timeout);

}  // namespace grav::test
