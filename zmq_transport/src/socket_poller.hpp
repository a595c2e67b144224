#pragma once
// The transport thread's wait for input on its ZeroMQ sockets and plain file
// descriptors: one poll(2) over them all per turn, and ZMQ_EVENTS asked only
// of the sockets whose state can have changed.
//
// Why not zmq_poll: it asks ZMQ_EVENTS of every socket, twice per call, and
// each ask of an idle socket costs a poll(2) and a getpid(2). A node with one
// peer polls ~8 sockets, so every wake-up cost ~35 system calls; on a virtual
// machine where a system call is slow, that was most of the transport's share
// of a round trip (and ~2,300 calls a second per node in the soak).
//
// The catch is that ZMQ_FD is edge-triggered: any operation on a socket
// (send, receive, ZMQ_EVENTS) may consume the signal that says input is
// waiting, and the fd then stays quiet although messages are there. So a
// socket is asked again at the next wait when its fd was readable *or* when
// it was used since the last wait. Every send and receive of the transport
// thread reports its use (frames.hpp, through note_use), the loop touches
// each item it handled, and adding a socket marks it too.
//
// Except when the last use was a receive that found nothing (note_drained):
// libzmq fails a receive only after taking every pending command, and with
// them the signal, so the fd is quiet *and* honest: the next command signals
// it afresh. Asking such a socket again costs a getpid(2) and a poll(2) per
// socket per turn for a socket known to be empty (a system call's cost: see
// docs/BENCHMARKS.md, ZeroMQ transport, "Costs the code is built around").
//
// Another thread may use the sockets while the owner sleeps in poll(2)
// (node_inline.cpp): wait() releases the owner's lock for the sleep alone,
// and that thread, holding the lock, reports its uses to this poller like
// the owner does and then asks used_socket_has_input() whether it must wake
// the owner.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <poll.h>

namespace grav::zmq {

class SocketPoller {
public:
    SocketPoller() = default;
    SocketPoller(const SocketPoller&) = delete;
    SocketPoller& operator=(const SocketPoller&) = delete;

    // Starts a new set of items. A socket that was in the old set keeps
    // whether it must be asked: asking every socket of a rebuilt set costs
    // about 2 system calls each, and with ~3 rebuilds per joining peer that
    // is O(peers) calls a join and O(N^3) to form a mesh of N nodes (issue
    // 20; see docs/BENCHMARKS.md, Mesh scale).
    void clear();
    // Polled for input. A socket new to the set, or made since the last
    // clear (note_new), is asked at the next wait.
    void add_socket(void* socket);
    // A socket was just made: whatever socket had its address before is
    // gone, and its state must not pass to this one.
    void note_new(void* socket);
    void add_fd(int fd);
    [[nodiscard]] std::size_t size() const noexcept { return fds_.size(); }

    // The socket was used (or may have been): ask it at the next wait.
    void touch(void* socket) noexcept;
    void touch_item(std::size_t index) noexcept;
    void touch_all() noexcept;
    // The socket was found empty by its last use (see note_drained).
    void untouch(void* socket) noexcept;

    // Waits up to `timeout` for input (not at all when a used socket already
    // has some); how many items have input. Interrupted by a signal: 0.
    // `asleep`, if given, is unlocked for the poll(2) alone.
    std::size_t wait(std::chrono::milliseconds timeout, std::unique_lock<std::mutex>* asleep = nullptr);
    // For a thread that used sockets while the owner slept: true when one
    // of them holds input its fd may no longer show (the owner must wake).
    // The sockets stay marked, so the owner asks them again too.
    [[nodiscard]] bool used_socket_has_input() const;
    [[nodiscard]] bool has_input(std::size_t index) const noexcept { return ready_[index] != 0; }

    // Reports a use of `socket` to the poller active on this thread, if any:
    // the one place that keeps the edge-triggered fds honest, called by the
    // send and receive helpers so that no call site can forget it.
    static void note_use(void* socket) noexcept;
    // Reports that a receive on `socket` just failed for want of input: its
    // fd will signal the next input, so it need not be asked (until its next
    // use). Call it after the failed receive, never before.
    static void note_drained(void* socket) noexcept;

    // Makes `poller` the one that note_use() reports to on this thread.
    class ActiveOnThisThread {
    public:
        explicit ActiveOnThisThread(SocketPoller& poller) noexcept;
        ~ActiveOnThisThread();
        ActiveOnThisThread(const ActiveOnThisThread&) = delete;
        ActiveOnThisThread& operator=(const ActiveOnThisThread&) = delete;

    private:
        SocketPoller* previous_;
    };

private:
    std::size_t wait_for_input(std::chrono::milliseconds timeout, std::unique_lock<std::mutex>* asleep);
    // ZMQ_EVENTS: also takes the socket's pending commands, and with them
    // the signal on its fd.
    [[nodiscard]] bool socket_has_input(std::size_t index) const;

    std::vector<void*> sockets_;  // null for a plain fd
    std::vector<pollfd> fds_;
    std::vector<char> asked_;  // ask ZMQ_EVENTS at the next wait
    std::vector<char> ready_;
    std::unordered_map<void*, std::size_t> index_;
    std::unordered_map<void*, char> kept_asked_;  // clear() to add_socket(): the old set's flags
    std::vector<void*> fresh_;                    // note_new since the last clear
};

}  // namespace grav::zmq
