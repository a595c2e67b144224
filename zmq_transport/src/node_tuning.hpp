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
// How often deadlines (handshakes, goodbyes, re-dials) are checked.
inline constexpr auto timer_period = 10ms;

}  // namespace grav::zmq::tuning
