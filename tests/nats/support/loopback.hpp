#pragma once
// Loopback-only probes for the NATS test harness: the shared ones
// (tests/support/loopback.hpp: free ports, a tiny HTTP GET for a server's
// monitoring endpoint) and a server's client greeting.

#include "support/loopback.hpp"

#include <chrono>
#include <cstdint>

namespace grav::natstest {

using test::free_loopback_ports;
using test::http_get;
using test::HttpResponse;

// True when a TCP connect to 127.0.0.1:port succeeds and the peer's first line
// starts with "INFO " (a NATS server greeting a client), within `timeout`.
bool nats_greets(std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace grav::natstest
