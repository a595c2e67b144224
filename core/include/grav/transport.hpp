#pragma once
// The interface a network transport implements so that the bus's hub can
// join this bus to buses on other hosts. The core knows nothing of sockets:
// grav::zmq implements this on ZeroMQ, the tests on an in-process network.
//
// Threading contract:
//  - start/stop/publish/send_to/connect/drop/subscribe/contact/stats may be
//    called from any thread, concurrently; an implementation queues the work
//    for its own thread(s). None of them blocks on the network.
//  - TransportEvents callbacks come from the transport's own thread(s), or
//    from a thread inside serve_until, never while the transport holds a
//    lock the hub's calls need. Callbacks must not block for long; the hub
//    only enqueues. An enqueue may wait for mailbox room (backpressure),
//    but not once a thread has called serve_until and until it returns: a
//    serve_until never waits behind a callback for room.

#include <grav/error.hpp>
#include <grav/message.hpp>
#include <grav/metric.hpp>
#include <grav/peer.hpp>
#include <grav/peer_traffic.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grav {

// How discovery advertises this node's transport, and how a discovered peer
// is dialled: a host plus the two ports of docs/ARCHITECTURE.md (direct and fan-out).
struct Contact {
    std::string host;               // numeric IPv4/IPv6 address
    std::uint16_t direct_port = 0;  // ROUTER in grav::zmq
    std::uint16_t fanout_port = 0;  // XPUB in grav::zmq
    // The node's public key in grav::security's text form (43 chars of
    // base64url) when it runs in secure mode, else empty. Core only carries it:
    // a secure transport needs it to dial (CURVE) and to check who answers.
    std::string public_key;
};

// Implemented by the hub; the transport reports what happens through it.
class TransportEvents {
public:
    virtual ~TransportEvents() = default;
    // A handshake arrived: Status ok admits the peer, an error refuses it
    // with that reason (sent back to the peer and logged on both sides).
    virtual Status admit(const PeerInfo& peer) = 0;
    // The peer is ready: handshake done and subscriptions in place, so
    // nothing published from now on is lost to it.
    virtual void on_peer_joined(const PeerInfo& peer) = 0;
    virtual void on_peer_left(const NodeId& peer, LeaveReason reason, std::string_view detail) = 0;
    // A dial that never became a peer (refused, wrong group, bad version).
    virtual void on_peer_refused(std::string_view endpoint, std::string_view reason) = 0;
    // A message from a peer, published or sent point-to-point to this node.
    virtual void on_message(const NodeId& from, MessagePtr message) = 0;
    // For a transport that must not block in on_message (grav::zmq: a
    // thread blocked there cannot keep its links alive). has_room() is
    // false while a message from a peer would wait for mailbox room
    // (OverflowPolicy::block): such a transport then stops reading what
    // peers publish, which pushes back on them, and reads again once it is
    // true. What it read while it was true goes to on_message_unblocked,
    // which never waits: a mailbox may exceed its capacity by what one read
    // brought.
    virtual bool has_room() { return true; }
    virtual void on_message_unblocked(const NodeId& from, MessagePtr message) {
        on_message(from, std::move(message));
    }
    // Messages of one of the peer's streams that will never arrive (a broken
    // link whose gap could not be filled again): `count` of them, `stream`
    // names which ("fan-out 'chat.line'", "direct"). Never hidden; the
    // messages after the gap are delivered.
    virtual void on_messages_lost(const NodeId& /*from*/, std::string_view /*stream*/,
                                  std::uint64_t /*count*/) {}
    // During stop(): `count` of the messages this node published or sent
    // to the peer did not reach it within the transport's bounded flush time
    // (the peer confirmed what it took); nullopt when the peer did not
    // confirm at all, so that some may not have. Never hidden.
    virtual void on_messages_unsent(const NodeId& /*to*/, std::optional<std::uint64_t> /*count*/) {}
};

using SendDone = std::function<void(Status)>;

class Transport {
public:
    virtual ~Transport() = default;
    Transport() = default;
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Binds and starts the transport's thread. `events` outlives stop().
    virtual Status start(const LocalNode& self, TransportEvents& events) = 0;
    // Tells every peer this node leaves, flushes what is queued (bounded
    // time), closes everything. Idempotent; no callbacks after it returns.
    virtual void stop() = 0;

    // Fan-out to every ready peer that subscribed to the message's type.
    virtual void publish(MessagePtr message) = 0;
    // Optional. As publish(), but never waits for room: false, with nothing
    // done, when publish() would wait now (a thread that must not block,
    // such as a bridge's engine callback, then hands the message to one that
    // may). The default never tries.
    virtual bool try_publish(const MessagePtr& message) {
        (void)message;
        return false;
    }
    // Point-to-point to one peer (replies, tunnel). `done` is called once,
    // from any thread, with ok or the reason it could not be sent; possibly
    // on the calling thread before send_to returns, so the caller must not
    // hold a lock that `done` takes.
    virtual void send_to(const NodeId& peer, MessagePtr message, SendDone done) = 0;

    // Dials a peer given by hand ("tcp://10.0.0.2:5670") ...
    virtual Status connect(std::string_view endpoint) = 0;
    // ... or found by discovery.
    virtual Status connect(const Contact& contact, const NodeId& expected) = 0;
    // Forgets a peer (discovery saw it leave).
    virtual void drop(const NodeId& peer) = 0;

    // The type prefixes local pods want ("" = everything). Peers are told,
    // so unwanted types never cross the wire.
    virtual void subscribe(std::vector<std::string> prefixes) = 0;

    // The endpoint peers dial to reach this node (after start).
    [[nodiscard]] virtual std::string endpoint() const = 0;
    [[nodiscard]] virtual Contact contact() const = 0;
    // True while the link to this peer shows signs of life (heartbeats).
    [[nodiscard]] virtual bool alive(const NodeId& peer) const = 0;
    [[nodiscard]] virtual std::map<std::string, std::uint64_t> stats() const = 0;
    // Optional: what each stats() key is (counter or gauge, a help line),
    // for the metrics (grav/metric.hpp). Undeclared keys are exported untyped.
    [[nodiscard]] virtual std::vector<MetricInfo> describe_metrics() const { return {}; }
    // Optional: per-peer traffic and health, one entry per peer with a link.
    [[nodiscard]] virtual std::vector<PeerTraffic> traffic() const { return {}; }

    // Optional. The calling thread is about to block until `done()` holds
    // or `deadline` passes. A transport whose own thread reads the network
    // may let the caller do that work meanwhile, so that a reply is read on
    // the thread that waits for it instead of being handed over to it (one
    // wake-up of a sleeping thread less per request and reply). `done` is
    // called on the calling thread; whoever makes it true from another
    // thread calls interrupt_serve() after. Returns whether done() held;
    // false at once when the transport does not serve this way (the
    // default), then the caller waits as it would have.
    virtual bool serve_until(const std::function<bool()>& done,
                             std::chrono::steady_clock::time_point deadline) {
        (void)done;
        (void)deadline;
        return false;
    }
    virtual void interrupt_serve() {}
};

}  // namespace grav
