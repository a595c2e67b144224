#pragma once
// Everything the transport thread knows about one peer: its sockets, where
// the handshake stands, and its sequence trackers.

#include "peer_counters.hpp"
#include "stream_in.hpp"
#include "string_hash.hpp"
#include "wire/resend_wire.hpp"

#include <grav/peer.hpp>
#include <grav/transport.hpp>

#include <zmq.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace grav::zmq {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

// A point-to-point message waiting for its peer's DEALER to take it.
struct Outgoing {
    std::array<::zmq::message_t, 2> frames;  // [type][data frame]
    std::size_t bytes = 0;
    SendDone done;
};

struct PeerLink {
    NodeId id;
    PeerInfo info;              // from its HELLO, once admitted
    std::string dial_endpoint;  // what we dialled, for refusal reports ("" if it dialled us)
    bool dialled_by_us = false;
    // Secure mode: the member key (text form) this node id is bound to — the
    // CURVE server key we dial it with, and the key its connections must show.
    std::string public_key;

    std::optional<::zmq::socket_t> dealer;   // to its ROUTER, identity = our node id
    std::optional<::zmq::socket_t> sub;      // to its XPUB
    std::optional<::zmq::socket_t> monitor;  // PAIR: the DEALER's connection events

    // Handshake: joined once all four hold.
    bool admitted = false;         // we admitted its HELLO
    bool welcomed = false;         // it admitted ours (WELCOME)
    bool ready_from_peer = false;  // its XPUB has our SUB (READY)
    bool ready_sent = false;       // we told it our XPUB has its SUB
    bool joined = false;
    SteadyTime handshake_deadline{};

    // Leaving: goodbye seen on the direct link and/or on the fan-out link.
    bool bye_direct = false;
    bool bye_fanout = false;
    std::optional<SteadyTime> leave_deadline;
    // Its BYE announced its tails: what it sent is known to the end, and it
    // waits for our GOT (sent when the link closes).
    bool tails_announced = false;
    // Our prefixes grew after it joined: a stream of it not seen yet may
    // have begun before we wanted it, so its BYE tail cannot count from 1.
    bool prefixes_grew = false;
    // The DEALER's connection dropped: gone unless a goodbye explains it.
    std::optional<SteadyTime> down_since;

    // Its incarnation (HELLO header id): stream state kept across a broken
    // link is resumed only by the same incarnation. Nil: never resumed.
    MessageId incarnation;
    // Streams it had before its link broke were resumed: streams first seen
    // before its READY announcement start at 0, not at a baseline.
    bool resume_from_zero = false;
    // It carries stream state of an earlier link (kept if this one fails too).
    bool resumed = false;

    std::uint64_t direct_seq_out = 0;
    StreamIn direct_in;
    std::unordered_map<std::string, StreamIn, StringHash, std::equal_to<>> fanout_in;
    // RESENT messages waiting for room on the DEALER.
    std::deque<std::array<::zmq::message_t, 3>> resend_out;

    std::deque<Outgoing> outbox;

    // Its traffic and health (Node::traffic()); never null.
    std::shared_ptr<PeerCounters> traffic = std::make_shared<PeerCounters>();
    // Round trip: our HELLO on the DEALER until its WELCOME, then PING/PONG
    // every ping_interval while its WELCOME said it answers them.
    std::optional<SteadyTime> hello_sent;
    bool answers_ping = false;
    std::uint64_t ping_token = 0;
    std::optional<SteadyTime> ping_sent;
};

}  // namespace grav::zmq
