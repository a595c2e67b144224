// Node: sends done on the calling thread while the transport thread sleeps.
//
// Handing a message to the transport thread costs a wake-up of a sleeping
// thread, a large share of a whole round trip over loopback (see
// docs/BENCHMARKS.md, ZeroMQ transport). So when the transport thread is
// asleep in poll(2) and nothing is queued ahead, the caller takes the loop
// lock and does the send itself, exactly as the transport thread would.
//
// Sockets still have one user at a time: the loop lock's holder. libzmq
// allows a socket to move between threads across a full memory barrier, and
// the mutex is that barrier. What the guest must not break is the owner's
// sleep: a send may take the signal on a socket's edge-triggered fd, so the
// guest reports its uses to the owner's poller and wakes the owner when a
// used socket holds input (SocketPoller::used_socket_has_input).
//
// Only the plain case runs here: a joined peer with an empty outbox, a
// valid message, nothing queued in the Inbox that it could overtake, and
// for a publish, no burst (tuning::burst_gap). All else is queued for the
// transport thread, which reports any failure.
#include "node.hpp"
#include "node_tuning.hpp"

#include <exception>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace grav::zmq {

bool Node::try_send_inline(command::SendTo& request) {
    SendDone done;
    {
        std::unique_lock loop(loop_mutex_, std::try_to_lock);
        if (!loop.owns_lock() || !loop_running_ || !commands_.empty() || inbox_.has_commands()) return false;
        PeerLink* link = joined_link(request.peer);
        if (!link || !link->outbox.empty()) return false;
        if (!wire::check_data(*request.message)) return false;
        SocketPoller::ActiveOnThisThread uses(poller_);
        // Called below, once the lock is released: a callback may send again.
        done = std::move(request.done);
        request.done = nullptr;
        bump(counters_.sent_inline);
        try {
            send_direct(request);
        } catch (const std::exception& e) {
            // As on the transport thread: what did not go stays in the outbox.
            log(std::string("error while sending: ") + e.what());
        }
        if (!link->outbox.empty()) {
            // At the high-water mark: the transport thread retries it and
            // calls `done` then.
            link->outbox.back().done = std::move(done);
            inbox_.wake();
            return true;
        }
        wake_if_input_hidden();
    }
    if (done) done(success());
    return true;
}

bool Node::try_publish_inline(const Message& message) {
    // A burst is queued instead: the transport thread sends it in batches,
    // which costs far less per message than one send each on this thread.
    const auto now = SteadyClock::now().time_since_epoch().count();
    const auto previous = last_publish_.exchange(now, std::memory_order_relaxed);
    if (now - previous < SteadyClock::duration(tuning::burst_gap).count()) return false;
    std::unique_lock loop(loop_mutex_, std::try_to_lock);
    if (!loop.owns_lock() || !loop_running_ || !batches_.empty() || !fanout_backlog_.empty()) return false;
    // Through the Inbox, which numbers and encodes it, and straight out
    // again: what the transport thread would do on its next turn.
    if (!inbox_.publish_alone(message, batches_)) return false;
    SocketPoller::ActiveOnThisThread uses(poller_);
    bump(counters_.sent_inline);
    try {
        flush_fanout();
    } catch (const std::exception& e) {
        log(std::string("error while publishing: ") + e.what());
    }
    if (!batches_.empty() || !fanout_backlog_.empty()) {
        inbox_.wake();  // held back at the high-water mark: the thread retries
    } else {
        wake_if_input_hidden();
    }
    inbox_.recycle(spent_frames_);
    return true;
}

void Node::wake_if_input_hidden() {
    // Nobody asleep in poll(2): the transport thread parked for leaders
    // (node_lead.cpp) and none leading. Whoever runs the next turn asks
    // the sockets used here before it polls.
    if (owner_parked_ && !lead_wanted_.load(std::memory_order_acquire)) return;
    try {
        if (poller_.used_socket_has_input()) inbox_.wake();
    } catch (const std::exception&) {
        inbox_.wake();  // could not tell: let the owner ask every used socket
    }
}

}  // namespace grav::zmq
