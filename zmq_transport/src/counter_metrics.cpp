// What each of the transport's stats() keys is, for the metrics
// (grav/metric.hpp); meanings as in docs/PROTOCOL.md's counter table.
#include "counters.hpp"

namespace grav::zmq {

std::vector<MetricInfo> describe_counters() {
    using enum MetricKind;
    return {
        {"zmq.messages_sent", counter, "Data messages handed to libzmq (fan-out and direct)"},
        {"zmq.bytes_sent", counter, "Bytes of the data messages sent (type and data frames)"},
        {"zmq.batches_sent", counter, "ZeroMQ messages that carried the data messages sent (batches)"},
        {"zmq.published", counter, "Data messages sent by fan-out"},
        {"zmq.direct_sent", counter, "Data messages sent point-to-point"},
        {"zmq.sent_inline", counter, "Sends done on the sending thread while the transport thread slept"},
        {"zmq.served_waits", counter, "Waits for a reply that ran the transport loop on the waiting thread"},
        {"zmq.served_wakeups", counter, "Of those, the ones that woke the transport thread to park it"},
        {"zmq.messages_received", counter, "Data messages accepted from peers"},
        {"zmq.bytes_received", counter, "Bytes of the data messages accepted from peers"},
        {"zmq.direct_received", counter, "Point-to-point data messages accepted from peers"},
        {"zmq.gaps", counter, "Times a peer's sequence number jumped (gaps not filled again)"},
        {"zmq.missing", counter, "Messages those gaps skipped"},
        {"zmq.duplicates", counter, "Sequence numbers seen again (copies dropped)"},
        {"zmq.malformed", counter, "Frames rejected as not grav"},
        {"zmq.unknown_sender", counter, "Data from a node that is not an admitted peer (dropped)"},
        {"zmq.refused", counter, "Handshakes refused, by either side"},
        {"zmq.handshake_timeouts", counter, "Handshakes abandoned"},
        {"zmq.backpressure", counter, "Times a full high-water mark held messages back"},
        {"zmq.publish_blocked", counter, "publish() calls that waited for room in the transport's queue"},
        {"zmq.send_failed", counter, "Direct sends that failed (unknown or departed peer)"},
        {"zmq.peers_joined", counter, "Peers that joined"},
        {"zmq.peers_left", counter, "Peers that left"},
        {"zmq.dropped_after_stop", counter, "Messages published after the transport stopped"},
        {"zmq.published_alone", counter, "Messages published while the node knew no peer at all"},
        {"zmq.unsent_at_stop", counter,
         "At stop: messages joined peers confirmed they had not taken in time"},
        {"zmq.unconfirmed_at_stop", counter, "At stop: peers that did not confirm what they took"},
        {"zmq.resend_requests", counter, "RESEND requests sent (a gap asked for again)"},
        {"zmq.resent", counter, "Messages sent again on a peer's request"},
        {"zmq.recovered", counter, "Messages that arrived by RESENT"},
        {"zmq.lost", counter, "Messages given up (beyond the resend window, or too late)"},
        {"zmq.auth_refused", counter, "Secure mode: keys or node ids the policy refused"},
        {"zmq.handshake_failed", counter, "Secure mode: ZMTP handshakes that failed on this node's sockets"},
        {"zmq.handshake_rejected", counter,
         "Secure mode: handshakes this node started that the peer refused"},
        {"zmq.peer_links", gauge, "Peers with a link now (joined or handshaking)"},
        {"zmq.retained_peers", gauge, "Departed peers whose stream state is kept for their return"},
        {"zmq.window_streams", gauge, "Streams with messages in the resend window"},
        {"zmq.window_messages", gauge, "Messages held in the resend window"},
        {"zmq.window_bytes", gauge, "Bytes held in the resend window"},
    };
}

}  // namespace grav::zmq
