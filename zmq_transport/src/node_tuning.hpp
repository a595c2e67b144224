#pragma once
// The transport thread's fixed timings and batch sizes, shared by the
// files that make up Node.

#include <chrono>

namespace grav::zmq::tuning {

using namespace std::chrono_literals;

// At most this many messages per socket per loop turn, so that one busy peer
// cannot starve the others, the inbox or the timers.
inline constexpr int receive_batch = 512;
// After a DEALER's connection drops, how long a goodbye may still explain it.
inline constexpr auto down_grace = 250ms;
// After a goodbye on one link, how long we wait for the other link's.
inline constexpr auto leave_wait = 500ms;
// How long a SUB waits for a sign of life from its publisher (ZMTP timeout):
// long, because a SUB whose pod stalls cannot read one (node.cpp, make_socket).
inline constexpr auto subscriber_patience = 1h;
// How soon a send that met a full queue (an outbox, the resends) is retried.
inline constexpr auto timer_period = 10ms;
// The timers run when their next deadline (a handshake, a goodbye, a
// re-dial, a gap) is due, and at least this often. An idle node wakes about
// once a second, not 100 times.
inline constexpr auto timer_idle_period = 1s;

}  // namespace grav::zmq::tuning
