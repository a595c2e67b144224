#pragma once
// How other threads hand work to the transport thread: two queues under one
// mutex, and an eventfd that the transport thread polls in the same poll(2)
// as its sockets (SocketPoller). Publishes are bounded (publish() blocks
// while the queue is full: backpressure); commands are few and never block.

#include "fanout_queue.hpp"

#include <grav/transport.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

namespace grav::zmq {

namespace command {
struct SendTo {
    NodeId peer;
    MessagePtr message;
    SendDone done;
};
struct Dial {
    std::string endpoint;
};
struct DialContact {
    Contact contact;
    NodeId expected;
};
struct Drop {
    NodeId peer;
};
struct Subscribe {
    std::vector<std::string> prefixes;
};
}  // namespace command

using Command =
    std::variant<command::SendTo, command::Dial, command::DialContact, command::Drop, command::Subscribe>;

// A file descriptor closed on destruction.
class EventFd {
public:
    EventFd();
    ~EventFd();
    EventFd(const EventFd&) = delete;
    EventFd& operator=(const EventFd&) = delete;
    [[nodiscard]] int fd() const noexcept { return fd_; }
    void signal() const noexcept;
    void clear() const noexcept;

private:
    int fd_;
};

class Inbox {
public:
    explicit Inbox(std::size_t max_publishes) : max_publishes_(max_publishes) {}

    // Encodes `message` into the publish queue (fanout_queue.hpp), blocking
    // while `max_publishes` wait (backpressure). False once closed (nothing
    // queued). The caller keeps the message: it is freed on its thread.
    bool publish(const Message& message);
    // publish() without the wait: full when `max_publishes` wait (nothing queued).
    enum class Offer { queued, full, closed };
    Offer try_publish(const Message& message);
    // For a sender that holds the loop lock and sends at once
    // (node_inline.cpp): when no publish waits, encodes `message` and hands
    // it straight back in `batches`, in one lock; never waits, wakes nobody
    // and leaves any wake-up armed. False (nothing done) when publishes wait
    // (it must not overtake them), the Inbox is closed, or the message is
    // too large to share a frame (publish() copies it before its lock).
    bool publish_alone(const Message& message, std::deque<FanoutQueue::Batch>& batches);
    // False once closed (the command is handed back untouched in `rejected`).
    bool push(Command command, Command* rejected = nullptr);
    // Stops the transport thread at its next turn; wakes blocked publishers.
    void request_stop();
    void close();

    [[nodiscard]] int wake_fd() const noexcept { return wake_.fd(); }
    // Makes the transport thread take a turn (node_inline.cpp).
    void wake();
    // Called (under the Inbox's lock: it must not call back) whenever the
    // wake fd is signalled: for a transport thread that sleeps elsewhere
    // than in poll(2) (node_lead.cpp). Set before the thread starts.
    void on_wake(std::function<void()> listener) { listener_ = std::move(listener); }
    // A wake-up signalled and not yet taken.
    [[nodiscard]] bool wake_pending() const;
    // Whether work waits to be taken: what is sent inline must not overtake it.
    [[nodiscard]] bool has_commands() const;
    [[nodiscard]] bool has_publishes() const;
    [[nodiscard]] bool stop_requested() const;

    // Transport thread: takes the commands, and appends the publish queue's
    // batches to `batches` unless `publishes` is false (the thread is itself
    // held back).
    void take(std::deque<Command>& commands, std::deque<FanoutQueue::Batch>& batches, bool publishes);
    // Transport thread: frames it has sent, kept for new batches
    // (FanoutQueue::recycle); the surplus is freed here, after the unlock.
    void recycle(std::vector<std::vector<std::byte>>& frames);
    std::uint64_t blocked_publishes() const;

private:
    Offer offer(const Message& message, bool may_wait);
    void wake_locked();
    void signal_wake();  // under the lock

    const std::size_t max_publishes_;
    mutable std::mutex mutex_;
    std::condition_variable not_full_;
    std::deque<Command> commands_;
    FanoutQueue publishes_;
    bool woken_ = false;
    bool stop_ = false;
    bool closed_ = false;
    std::uint64_t blocked_ = 0;
    EventFd wake_;
    std::function<void()> listener_;
};

}  // namespace grav::zmq
