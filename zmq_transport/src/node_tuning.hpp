#pragma once
// The transport thread's fixed timings and batch sizes, shared by the
// files that make up Node.

#include <chrono>
#include <cstddef>

namespace grav::zmq::tuning {

using namespace std::chrono_literals;

// At most this many messages per socket per loop turn, so that one busy peer
// cannot starve the others, the inbox or the timers.
inline constexpr int receive_batch = 512;
// After a DEALER's connection drops, how long a goodbye may still explain it.
inline constexpr auto down_grace = 250ms;
// After a goodbye on one link, how long we wait for the other link's.
inline constexpr auto leave_wait = 500ms;
// stop(): how long after its flush deadline the node still waits for the
// GOT of a peer whose own wait for our tail (as long) started at our BYE.
inline constexpr auto got_grace = 500ms;
// How long a SUB waits for a sign of life from its publisher (ZMTP timeout):
// long, because a SUB whose pod stalls cannot read one (node.cpp, make_socket).
inline constexpr auto subscriber_patience = 1h;
// How soon a send that met a full queue (an outbox, the resends) is retried.
inline constexpr auto timer_period = 10ms;
// The timers run when their next deadline (a handshake, a goodbye, a
// re-dial, a gap) is due, and at least this often: an idle node wakes about
// once a second, not once every timer_period.
inline constexpr auto timer_idle_period = 1s;
// A publish that follows the previous one within this gap is part of a
// burst: it is queued, so that the burst leaves in batches, instead of being
// sent on the caller's thread one by one (node_inline.cpp). About twice
// what waking the transport thread costs (see docs/BENCHMARKS.md, ZeroMQ
// transport): a shorter gap splits bursts, a longer one queues lone sends.
inline constexpr auto burst_gap = 50us;

// After a thread that served the loop while it waited (node_lead.cpp)
// gives it back, how long the transport thread stays parked for the next
// one before it takes the loop back. Input from peers meanwhile waits at
// most this (Inbox work wakes it at once). The trade: the parked thread
// wakes once per linger to look, and each such wake-up shows in a served
// round trip (a shorter linger made served waits slower), while input that
// comes just after a served wait with nobody else about may be this late
// (the reactive round trip's p99; see docs/BENCHMARKS.md, ZeroMQ transport).
inline constexpr auto park_linger = 1ms;

// A publish batch's data frame this large goes to libzmq without a copy
// (Node::frame_message): copying costs more than the allocation it saves.
inline constexpr std::size_t zero_copy_above = 64 * 1024;

}  // namespace grav::zmq::tuning
