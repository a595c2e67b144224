// Node: a thread that blocks for a reply runs the loop while it waits.
//
// A reply read by the transport thread must then be handed to the thread
// waiting for it: a wake-up of a sleeping thread on every request/reply, the
// largest cost left in a round trip (see docs/BENCHMARKS.md, ZeroMQ
// transport, "Costs the code is built around").
// The waiting thread has nothing else to do, so it becomes the loop's
// owner for as long as it waits, and the reply is read where it is wanted.
//
//  1. The waiter claims the lead, wakes the transport thread out of
//     poll(2) and waits until that thread parks (at the top of its next
//     turn). This overlaps the request's flight, so it costs the round
//     trip nothing.
//  2. The leader runs turns exactly as the transport thread would, with
//     everything that goes with owning the loop: every socket, the timers,
//     the callbacks (on_own_thread() is true on it meanwhile).
//  3. When done() holds, the deadline passes or stop() is asked, it gives
//     the loop back and the transport thread goes on.
//
// One leader at a time; a second waiter waits the ordinary way.
#include "node.hpp"
#include "node_tuning.hpp"

namespace grav::zmq {

namespace {
// Gives the loop back however serve_until ends.
class LeadRelease {
public:
    LeadRelease(std::atomic<bool>& wanted, std::unique_lock<std::mutex>& loop)
        : wanted_(wanted), loop_(loop) {}
    ~LeadRelease() {
        wanted_.store(false, std::memory_order_release);
        if (loop_.owns_lock()) loop_.unlock();
    }
    LeadRelease(const LeadRelease&) = delete;
    LeadRelease& operator=(const LeadRelease&) = delete;

private:
    std::atomic<bool>& wanted_;
    std::unique_lock<std::mutex>& loop_;
};
}  // namespace

bool Node::serve_until(const std::function<bool()>& done, SteadyTime deadline) {
    if (on_own_thread()) return false;  // the loop's owner already (nested wait)
    bool expected = false;
    if (!lead_wanted_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return false;
    std::unique_lock loop(loop_mutex_);
    LeadRelease release(lead_wanted_, loop);
    if (!owner_parked_) {
        inbox_.wake();  // out of poll(2), to park
        bump(counters_.served_wakeups);
    }
    while (!owner_parked_) {
        // Not yet running is fine (the thread is starting: it parks first).
        if (loop_ended_ || done() || inbox_.stop_requested() || SteadyClock::now() >= deadline) {
            return done();
        }
        owner_parked_changed_.wait_until(loop, deadline);
    }
    lead_claims_.fetch_add(1);
    bump(counters_.served_waits);
    // This thread runs the loop until the scope ends, however it ends.
    struct Leading {
        Node& node;
        Leading(Node& n, const std::function<bool()>& done) : node(n) {
            node.thread_id_.store(std::this_thread::get_id());
            node.leader_done_ = &done;
        }
        ~Leading() {
            node.leader_done_ = nullptr;
            node.thread_id_.store(node.owner_id_);
        }
        Leading(const Leading&) = delete;
        Leading& operator=(const Leading&) = delete;
    } leading(*this, done);
    SocketPoller::ActiveOnThisThread uses(poller_);
    bool finished = false;
    while (!(finished = done()) && !inbox_.stop_requested() && SteadyClock::now() < deadline) {
        turn(loop, deadline);
    }
    return finished;
}

void Node::park_while_led(std::unique_lock<std::mutex>& loop) {
    owner_parked_ = true;
    owner_parked_changed_.notify_one();
    // Parked for as long as leaders follow each other: a caller in a loop
    // of requests claims the lead again microseconds after it gave it back
    // and finds the loop free, with nobody to wake. This thread takes the
    // loop back once a whole linger passes with no leader, or at once when
    // the Inbox has work and nobody leads. Input from peers that comes
    // after a leader left waits that long at most (tuning::park_linger).
    park_signal_ = false;  // wake-ups before now: wake_pending() tells
    do {
        loop.unlock();
        for (;;) {
            const auto claims = lead_claims_.load();
            const bool led = lead_wanted_.load();
            if (!led && (inbox_.wake_pending() || inbox_.stop_requested())) break;
            bool roused = false;
            {
                std::unique_lock park(park_mutex_);
                owner_dozing_ = true;
                roused = park_cv_.wait_for(park, tuning::park_linger,
                                           [&] { return park_signal_.exchange(false); });
                owner_dozing_ = false;
            }
            if (lead_wanted_.load()) continue;
            if (roused || lead_claims_.load() == claims || inbox_.stop_requested()) break;
        }
        loop.lock();
        // A leader that claimed meanwhile found this thread parked: it leads.
    } while (lead_wanted_.load());
    owner_parked_ = false;
}

void Node::rouse_parked_owner() {
    park_signal_ = true;
    if (owner_dozing_) {
        // Through the mutex, so that the signal cannot fall between the
        // doze's check of it and its sleep.
        { std::lock_guard park(park_mutex_); }
        park_cv_.notify_one();
    }
}

}  // namespace grav::zmq
