#pragma once
// grav::zmq — the ZeroMQ transport: joins buses on many hosts into one mesh.
//
//   grav::Bus a({.transport = grav::zmq::transport()});
//   grav::Bus b({.transport = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"})});
//   b.connect_endpoint(a.endpoint());
//
// Per node a ROUTER (handshake, direct messages) and an XPUB (fan-out); per
// peer a DEALER and a SUB. One thread owns every socket; a sender may use
// them while that thread sleeps, under its lock, which saves a wake-up per
// message; and a thread that waits for a reply (serve_until, as a Receipt
// wait does) runs the loop itself meanwhile, which saves another. The wire
// format is in docs/PROTOCOL.md.

#include <grav/security.hpp>
#include <grav/transport.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace grav::zmq {

struct Options {
    // Where the ROUTER binds ("tcp://host:port", port 0 = ephemeral). The
    // XPUB (fan-out) binds on the same host: on port+1 when a port is given
    // (so both must be free, and 65535 is refused), else on an ephemeral
    // port too. A bind error names the socket and port that failed.
    std::string bind = "tcp://*:0";
    // ZMTP heartbeats: a peer silent for heartbeat_timeout is reported
    // left (timed out).
    std::chrono::milliseconds heartbeat_interval{1000};
    std::chrono::milliseconds heartbeat_timeout{3000};
    // How often the round trip to each joined peer is measured by a PING
    // it answers (PeerTraffic::rtt, `grav peers`); the first is measured
    // by the handshake itself. One PING and one PONG per peer per interval
    // (the ZMTP heartbeats above are invisible to the node). 0: the
    // handshake's only.
    std::chrono::milliseconds ping_interval{10000};
    // A dial or an incoming handshake not finished by then is abandoned.
    std::chrono::milliseconds handshake_timeout{3000};
    // stop(): how long goodbyes and queued messages may take to leave.
    std::chrono::milliseconds linger{1000};
    // stop(): how long this node waits for its joined peers to take what it
    // published and sent them, and to confirm it (GOT, docs/PROTOCOL.md
    // "Leaving"); what they had not taken by then is counted per peer
    // (zmq.unsent_at_stop), logged and reported with
    // TransportEvents::on_messages_unsent. Also how long a node waits for
    // the tail a departing peer announced before it reports the rest lost.
    // A slow subscriber may hold stop() up to this long (plus a short grace
    // for its answer). 0: no wait, what is not out yet is counted.
    std::chrono::milliseconds stop_flush_timeout{5000};
    // High-water marks (messages per connection). At the mark the transport
    // holds messages back (backpressure); it never drops them silently.
    int send_hwm = 10000;
    int recv_hwm = 10000;
    // Larger incoming ZeroMQ messages are refused by libzmq (hostile peers).
    std::size_t max_message_size = std::size_t{64} << 20;
    // publish() blocks its caller while this many messages wait for the
    // transport thread (backpressure towards the bus).
    std::size_t max_queued = 100000;
    // Where reasons for rejected input, refusals and losses go. Default:
    // one line on stderr, at most ~20 lines per second.
    std::function<void(std::string_view line)> log{};
    // No loss across a broken link (docs/PROTOCOL.md, "Resending after a
    // broken link"): the node keeps the last messages it sent, over all its
    // streams together, within both bounds, and re-sends what a peer missed.
    // 0 turns it off.
    std::size_t resend_window_messages = 10000;
    std::size_t resend_window_bytes = std::size_t{16} << 20;
    // A gap not filled again within this is reported lost (event + zmq.lost)
    // and what arrived after it is delivered.
    std::chrono::milliseconds resend_timeout{2000};
    // How long the stream state of a peer whose link broke (timed out) is
    // kept for its return with the same node id; after that it starts afresh.
    std::chrono::milliseconds peer_state_retention{60000};
    // Secure mode (docs/GUIDE.md, Security): null = no encryption, no
    // authentication (ZeroMQ's NULL mechanism). Set: every link is CURVE,
    // encrypted and authenticated; only the policy's members get in.
    std::shared_ptr<const security::Policy> security{};
};

std::unique_ptr<grav::Transport> transport(Options options = {});

// The largest payload a peer with these options accepts in one message:
// max_message_size less the data frame's own bytes (and room for CURVE's). A peer's libzmq refuses a
// larger message by dropping the connection, so a sender should refuse it
// first (the `grav` tool does, with the peers' options assumed equal to its own).
std::size_t max_payload_size(const Options& options) noexcept;

}  // namespace grav::zmq
