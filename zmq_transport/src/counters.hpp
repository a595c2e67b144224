#pragma once
// The transport's counters: written by the loop lock's holder (node.hpp),
// read by stats() from any thread.

#include <grav/metric.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace grav::zmq {

struct Counters {
    std::atomic<std::uint64_t> messages_sent{0};      // data messages handed to libzmq (fan-out + direct)
    std::atomic<std::uint64_t> bytes_sent{0};         // their bytes, all frames
    std::atomic<std::uint64_t> batches_sent{0};       // ZeroMQ messages that carried them (records batched)
    std::atomic<std::uint64_t> published{0};          // of which fan-out
    std::atomic<std::uint64_t> direct_sent{0};        // of which point-to-point
    std::atomic<std::uint64_t> sent_inline{0};        // sends done on the caller's thread (node_inline.cpp)
    std::atomic<std::uint64_t> served_waits{0};       // waits that ran the loop (node_lead.cpp)
    std::atomic<std::uint64_t> served_wakeups{0};     // of which woke the transport thread to park it
    std::atomic<std::uint64_t> messages_received{0};  // data messages accepted from peers
    std::atomic<std::uint64_t> bytes_received{0};
    std::atomic<std::uint64_t> direct_received{0};
    std::atomic<std::uint64_t> gaps{0};            // times a sequence number jumped
    std::atomic<std::uint64_t> missing{0};         // messages those jumps skipped
    std::atomic<std::uint64_t> duplicates{0};      // sequence numbers seen again (dropped)
    std::atomic<std::uint64_t> malformed{0};       // frames rejected as not grav
    std::atomic<std::uint64_t> unknown_sender{0};  // data from a node that is no peer (dropped)
    std::atomic<std::uint64_t> refused{0};         // handshakes refused, by either side
    std::atomic<std::uint64_t> handshake_timeouts{0};
    std::atomic<std::uint64_t> backpressure{0};  // times a full HWM held messages back
    std::atomic<std::uint64_t> send_failed{0};   // send_to that could not be sent
    std::atomic<std::uint64_t> peers_joined{0};
    std::atomic<std::uint64_t> peers_left{0};
    std::atomic<std::uint64_t> dropped_after_stop{0};  // publish() after stop()
    // publish() while the node knew no peer at all (Node::alone()): not
    // encoded, since no one could get it, then or by a later RESEND.
    std::atomic<std::uint64_t> published_alone{0};
    // stop(): messages joined peers confirmed they did not take in time,
    // and peers that did not confirm at all (their count is unknown).
    std::atomic<std::uint64_t> unsent_at_stop{0};
    std::atomic<std::uint64_t> unconfirmed_at_stop{0};
    std::atomic<std::uint64_t> resend_requests{0};     // RESEND sent (a gap asked for again)
    std::atomic<std::uint64_t> resent{0};              // messages this node sent again on request
    std::atomic<std::uint64_t> recovered{0};           // messages that arrived by RESENT
    std::atomic<std::uint64_t> lost{0};                // messages given up (beyond the window / too late)
    // Secure mode: a key that is no member, or not its node id's key.
    std::atomic<std::uint64_t> auth_refused{0};
    // Secure mode: a ZMTP handshake on the ROUTER or XPUB failed (e.g. no CURVE).
    std::atomic<std::uint64_t> handshake_failed{0};
    // Secure mode: a handshake this node started (its DEALER to a peer)
    // failed: the peer refused this node's key, or this node dialled it
    // with a key that is not the peer's. Without it the refused side only
    // sees "no peer appeared".
    std::atomic<std::uint64_t> handshake_rejected{0};
    // Gauges (current values, set by the transport thread on every turn of
    // its loop): what the node holds per peer and for resending, so that
    // state kept for departed peers can be seen going away.
    std::atomic<std::uint64_t> peer_links{0};  // peers with a link (joined or handshaking)
    // Departed peers whose stream state is kept for their return.
    std::atomic<std::uint64_t> retained_peers{0};
    std::atomic<std::uint64_t> window_streams{0};  // streams with messages in the resend window
    std::atomic<std::uint64_t> window_messages{0};
    std::atomic<std::uint64_t> window_bytes{0};

    [[nodiscard]] std::map<std::string, std::uint64_t> snapshot() const {
        auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
        return {
            {"zmq.messages_sent", get(messages_sent)},
            {"zmq.bytes_sent", get(bytes_sent)},
            {"zmq.batches_sent", get(batches_sent)},
            {"zmq.published", get(published)},
            {"zmq.direct_sent", get(direct_sent)},
            {"zmq.sent_inline", get(sent_inline)},
            {"zmq.served_waits", get(served_waits)},
            {"zmq.served_wakeups", get(served_wakeups)},
            {"zmq.messages_received", get(messages_received)},
            {"zmq.bytes_received", get(bytes_received)},
            {"zmq.direct_received", get(direct_received)},
            {"zmq.gaps", get(gaps)},
            {"zmq.missing", get(missing)},
            {"zmq.duplicates", get(duplicates)},
            {"zmq.malformed", get(malformed)},
            {"zmq.unknown_sender", get(unknown_sender)},
            {"zmq.refused", get(refused)},
            {"zmq.handshake_timeouts", get(handshake_timeouts)},
            {"zmq.backpressure", get(backpressure)},
            {"zmq.send_failed", get(send_failed)},
            {"zmq.peers_joined", get(peers_joined)},
            {"zmq.peers_left", get(peers_left)},
            {"zmq.dropped_after_stop", get(dropped_after_stop)},
            {"zmq.published_alone", get(published_alone)},
            {"zmq.unsent_at_stop", get(unsent_at_stop)},
            {"zmq.unconfirmed_at_stop", get(unconfirmed_at_stop)},
            {"zmq.resend_requests", get(resend_requests)},
            {"zmq.resent", get(resent)},
            {"zmq.recovered", get(recovered)},
            {"zmq.lost", get(lost)},
            {"zmq.auth_refused", get(auth_refused)},
            {"zmq.handshake_failed", get(handshake_failed)},
            {"zmq.handshake_rejected", get(handshake_rejected)},
            {"zmq.peer_links", get(peer_links)},
            {"zmq.retained_peers", get(retained_peers)},
            {"zmq.window_streams", get(window_streams)},
            {"zmq.window_messages", get(window_messages)},
            {"zmq.window_bytes", get(window_bytes)},
        };
    }
};

// What each key of the transport's stats() is (counter_metrics.cpp).
std::vector<MetricInfo> describe_counters();

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
    counter.fetch_add(by, std::memory_order_relaxed);
}

}  // namespace grav::zmq
