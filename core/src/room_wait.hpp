#pragma once
// Who may wait for room in a pod's full mailbox (OverflowPolicy::block),
// given that a thread waiting for a reply may run the transport's loop
// meanwhile (Transport::serve_until, BusCore::serve_until).
//
// Room comes only from the pod's handler, on a worker, and that handler
// may need a lock held by a thread that waits for a reply. The invariant:
//
//   A thread that runs the transport's loop (inside serve_until, or in a
//   callback of the transport, TransportEvents) waits for mailbox room only
//   while no thread wants the loop for a wait, and stops waiting the moment
//   one does: its message goes in past the capacity, as from a handler.
//   A worker never waits for room (a worker waiting for workers could
//   deadlock the pool).
//
// Why the loop's holder, and not only the waiter itself: a waiter must first
// get the loop from whoever holds it, and the holder (the transport's own
// thread, mid-delivery) may be waiting for room in the very mailbox whose
// handler waits for the waiter's lock. The waiter would wait behind it for
// ever; so claiming the loop (WantingTheLoop) releases a holder that waits
// for room, and whoever holds the loop from then on does not wait.
//
// The trade: while nobody waits for a reply, messages from peers wait for
// room on the transport's thread, and backpressure reaches the network;
// while a thread wants or runs the loop for a wait, the bound is soft for
// what comes from peers (docs/GUIDE.md).

#include <atomic>

namespace grav::detail {

// Shared by a bus and its pods (BusCounters::loop).
struct LoopClaims {
    std::atomic<int> wanted{0};            // threads inside WantingTheLoop
    std::atomic<int> waiting_for_room{0};  // loop runners inside WaitingForRoom
};

// Marks this thread as running the transport's loop for its lifetime.
class RunningTheLoop {
public:
    RunningTheLoop() noexcept;
    ~RunningTheLoop();
    RunningTheLoop(const RunningTheLoop&) = delete;
    RunningTheLoop& operator=(const RunningTheLoop&) = delete;

private:
    bool previous_;
};

// For its lifetime this thread wants the loop for a wait, and runs it once
// it has it. If a loop runner waits for room when the claim is made, the
// caller must wake the mailboxes' room waiters (they re-ask
// may_wait_for_room and go on): must_release_room_waiters().
class WantingTheLoop {
public:
    explicit WantingTheLoop(LoopClaims& claims) noexcept;
    ~WantingTheLoop();
    WantingTheLoop(const WantingTheLoop&) = delete;
    WantingTheLoop& operator=(const WantingTheLoop&) = delete;

    [[nodiscard]] bool must_release_room_waiters() const noexcept { return release_; }

private:
    LoopClaims& claims_;
    RunningTheLoop running_;
    bool release_;
};

// Whether this thread may wait for room now; asked again on every wake-up.
[[nodiscard]] bool may_wait_for_room(const LoopClaims& claims) noexcept;

// Held (under the mailbox's lock) while this thread waits for room: a loop
// runner is counted, so that a thread claiming the loop knows to wake it.
class WaitingForRoom {
public:
    explicit WaitingForRoom(LoopClaims& claims) noexcept;
    ~WaitingForRoom();
    WaitingForRoom(const WaitingForRoom&) = delete;
    WaitingForRoom& operator=(const WaitingForRoom&) = delete;

private:
    LoopClaims* counted_;
};

}  // namespace grav::detail
